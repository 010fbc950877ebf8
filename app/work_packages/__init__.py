"""Work packages: turning a grant into tokens a user's client can use."""
