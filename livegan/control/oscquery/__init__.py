"""OSCQuery: the OSC namespace and its values as JSON over HTTP, announced over mDNS."""
