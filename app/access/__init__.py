"""Access: who may download which dataset or upload into which box, until when."""
