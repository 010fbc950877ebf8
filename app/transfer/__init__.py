"""File transfer: the download and upload controllers that ghga-connector talks to."""
