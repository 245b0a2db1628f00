"""The control page: the show's web server (OSCQuery, the page, one WebSocket), pairing, previews."""
