"""The stock ledger: warehouses and their stock levels, every movement that changed a
level, the allocations that hold stock for order lines, and returns. It sits below the
orders: it knows order lines only as the rows its allocations and movements point at."""
