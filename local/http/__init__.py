"""The local stack's HTTP front: the app's API behind the edge that API Gateway is on AWS,
with /_local/ handed to the console."""
