"""tests/conftest.py's SharedCompiledSQL: engines whose dialects are set up alike share compiled
statements; a dialect set up otherwise compiles its own."""
from sqlalchemy import column, create_engine, select, table
from sqlalchemy.engine.interfaces import CacheStats

THINGS = table("thing", column("id"), column("name"))


def cache_use(engine, statement):
    """(whether the compiled statement came from the cache, the SQL it ran)"""
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS thing (id INTEGER, name TEXT)")
        context = connection.execute(statement).context
        return context.cache_hit, str(context.compiled)


def test_a_second_engine_reuses_what_the_first_compiled(tmp_path):
    statement = select(THINGS.c.name).where(THINGS.c.id == 41)
    first, second = (create_engine(f"sqlite:///{tmp_path / name}") for name in ("a.sqlite", "b.sqlite"))
    assert first.dialect is not second.dialect
    cache_use(first, statement)
    assert cache_use(second, select(THINGS.c.name).where(THINGS.c.id == 42))[0] == CacheStats.CACHE_HIT


def test_a_dialect_set_up_otherwise_compiles_its_own(tmp_path):
    statement = select(THINGS.c.id).where(THINGS.c.name == "x")
    plain = create_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    named = create_engine(f"sqlite:///{tmp_path / 'b.sqlite'}", paramstyle="named")  # ':name', not '?'
    assert "?" in cache_use(plain, statement)[1]
    hit, sql = cache_use(named, statement)
    assert (hit, sql.split("WHERE ")[1]) == (CacheStats.CACHE_MISS, "thing.name = :name_1")
