"""The one door to dependencies' private names, each checked against the versions it was written for, with a tested
fallback to the public path."""
