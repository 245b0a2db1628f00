"""`livegan distil`: a fast livegan generator trained to draw a big model's frame for the same
latent (config, teacher, student, pairs, losses, agreement, run)."""
