"""The orders back office: the queue, the order page and its actions, imports, returns.
Pages compose what the orders domain, the allocation runs and the warehouse integration
know about an order, so they sit above all three."""
