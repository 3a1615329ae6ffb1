"""smsgw: a self-hostable SMS gateway on AWS serverless. All logic lives in this package (the shared layer)."""
