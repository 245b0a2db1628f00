"""OSC: the wire format, the receiving server, batches, the /livegan namespace, the sender."""
