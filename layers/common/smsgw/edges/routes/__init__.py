"""One Powertools Router per API family; each function's resolver includes the routers it serves."""
