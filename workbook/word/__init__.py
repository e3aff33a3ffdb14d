"""Word documents in the official-document format: the 通报 and the 督办通知单."""
