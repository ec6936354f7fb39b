"""The warehouse integration: the releases OMS asks warehouse systems to ship, the calls
that deliver them (dispatch, client, circuit breaker), the callbacks the warehouses send
back, and a simulated warehouse system. It sits above the orders and the allocation
runs, and answers their events."""
