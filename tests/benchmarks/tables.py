"""Scratch tables for the floors of the benchmarks."""


def create_like(conn, source: str, name: str) -> None:
    """(Re)make table `name` as a copy of OMS's table `source`: the same columns,
    defaults, checks and indexes (LIKE ... INCLUDING ALL) and the same storage
    parameters, such as a fillfactor; no foreign keys, no rows."""
    options = conn.execute(
        "SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [source]
    ).fetchone()[0]
    storage = f" WITH ({', '.join(options)})" if options else ""
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(f"CREATE TABLE {name} (LIKE {source} INCLUDING ALL){storage}")
