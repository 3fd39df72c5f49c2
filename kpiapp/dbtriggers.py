"""Every database trigger the migrations install, in one place: they hold even against raw SQL.

Append-only tables (the audit log, events, acknowledgements, issued reports) refuse
UPDATE and DELETE (and TRUNCATE on PostgreSQL).  A locked scorecard is frozen: the
service layer refuses such writes first with a clean FrozenError; these triggers are
the second layer for bulk updates, raw SQL and bugs.  Moving a row INTO the locked
state is an UPDATE whose OLD.state is not 'locked', so it passes.
"""
import sqlalchemy as sa
from alembic import op

# child tables whose rows belong to one scorecard and must not change once it is locked
CHILD_TABLES = ("scorecard_item", "scorecard_item_version", "change_request")
LOCKED = "'locked'"


def dialect():
    return op.get_bind().dialect.name


def create_lock_triggers():
    if dialect() == "postgresql":
        _create_postgresql()
    else:
        _create_sqlite()


def drop_lock_triggers():
    if dialect() == "postgresql":
        for table in ("scorecard", *CHILD_TABLES):
            op.execute(f'DROP TRIGGER IF EXISTS {table}_locked ON "{table}"')
        op.execute("DROP FUNCTION IF EXISTS kpi_scorecard_locked()")
        op.execute("DROP FUNCTION IF EXISTS kpi_scorecard_child_locked()")
        return
    for name in _sqlite_trigger_names():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _create_postgresql():
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kpi_scorecard_locked() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.state = {LOCKED} THEN
            RAISE EXCEPTION 'scorecard % is locked', OLD.id USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$;
    """)
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kpi_scorecard_child_locked() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (TG_OP <> 'INSERT' AND EXISTS (
                SELECT 1 FROM scorecard WHERE id = OLD.scorecard_id AND state = {LOCKED}))
             OR (TG_OP <> 'DELETE' AND EXISTS (
                SELECT 1 FROM scorecard WHERE id = NEW.scorecard_id AND state = {LOCKED}))
          THEN
            RAISE EXCEPTION '% belongs to a locked scorecard', TG_TABLE_NAME
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$;
    """)
    op.execute('CREATE TRIGGER scorecard_locked BEFORE UPDATE OR DELETE ON "scorecard" '
               "FOR EACH ROW EXECUTE FUNCTION kpi_scorecard_locked()")
    for table in CHILD_TABLES:
        op.execute(f'CREATE TRIGGER {table}_locked BEFORE INSERT OR UPDATE OR DELETE ON "{table}" '
                   "FOR EACH ROW EXECUTE FUNCTION kpi_scorecard_child_locked()")


def _sqlite_statements():
    """(name, CREATE TRIGGER sql) pairs for SQLite."""
    abort = "BEGIN SELECT RAISE(ABORT, '{what} is locked'); END"
    yield from (
        (f"scorecard_locked_{verb.lower()}",
         f'CREATE TRIGGER scorecard_locked_{verb.lower()} BEFORE {verb} ON "scorecard" '
         f"WHEN OLD.state = {LOCKED} " + abort.format(what="scorecard"))
        for verb in ("UPDATE", "DELETE")
    )
    locked = "(SELECT state FROM scorecard WHERE id = {row}.scorecard_id) = " + LOCKED
    for table in CHILD_TABLES:
        conditions = {
            "INSERT": locked.format(row="NEW"),
            "UPDATE": f"{locked.format(row='OLD')} OR {locked.format(row='NEW')}",
            "DELETE": locked.format(row="OLD"),
        }
        for verb, condition in conditions.items():
            name = f"{table}_locked_{verb.lower()}"
            yield name, (f'CREATE TRIGGER {name} BEFORE {verb} ON "{table}" WHEN {condition} '
                         + abort.format(what=f"{table}: scorecard"))


def _sqlite_trigger_names():
    return [name for name, _ in _sqlite_statements()]


def _create_sqlite():
    for _name, sql in _sqlite_statements():
        op.execute(sql)


def create_truncate_guards():
    """PostgreSQL: BEFORE TRUNCATE on the scorecard tables, refused while a locked row exists."""
    if dialect() != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kpi_scorecard_truncate_locked() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          found boolean;
        BEGIN
          IF TG_TABLE_NAME = 'scorecard' THEN
            SELECT EXISTS (SELECT 1 FROM scorecard WHERE state = {LOCKED}) INTO found;
          ELSE
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I AS c JOIN scorecard AS s '
                           'ON s.id = c.scorecard_id WHERE s.state = %L)', TG_TABLE_NAME, 'locked')
              INTO found;
          END IF;
          IF found THEN
            RAISE EXCEPTION '% holds rows of a locked scorecard: TRUNCATE refused', TG_TABLE_NAME
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NULL;
        END $$;
    """)
    for table in ("scorecard", *CHILD_TABLES):
        op.execute(f'CREATE TRIGGER {table}_no_truncate_locked BEFORE TRUNCATE ON "{table}" '
                   "FOR EACH STATEMENT EXECUTE FUNCTION kpi_scorecard_truncate_locked()")


def drop_truncate_guards():
    if dialect() != "postgresql":
        return
    for table in ("scorecard", *CHILD_TABLES):
        op.execute(f'DROP TRIGGER IF EXISTS {table}_no_truncate_locked ON "{table}"')
    op.execute("DROP FUNCTION IF EXISTS kpi_scorecard_truncate_locked()")


def create_append_only(table):
    """Reject every UPDATE and DELETE (and TRUNCATE on PostgreSQL) on `table`."""
    if dialect() == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION kpi_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; END $$;
        """)
        op.execute(f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
                   f"FOR EACH ROW EXECUTE FUNCTION kpi_append_only()")
        op.execute(f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{table}" '
                   f"FOR EACH STATEMENT EXECUTE FUNCTION kpi_append_only()")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f'CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON "{table}" '
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def drop_append_only(table):
    if dialect() == "postgresql":
        op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"')
        op.execute(f'DROP TRIGGER IF EXISTS {table}_no_truncate ON "{table}"')
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


# ---- the frozen bonus table (docs/bonus.md) -------------------------------------------------

FROZEN_CYCLE = "(SELECT bonus_frozen_at FROM appraisal_cycle WHERE id = {row}.cycle_id) IS NOT NULL"
BONUS_FROZEN_SQLITE = {
    "INSERT": FROZEN_CYCLE.format(row="NEW"),
    "UPDATE": f"{FROZEN_CYCLE.format(row='OLD')} OR {FROZEN_CYCLE.format(row='NEW')}",
    "DELETE": FROZEN_CYCLE.format(row="OLD"),
}


def create_bonus_freeze_triggers():
    """bonus_line rows of a frozen cycle refuse INSERT/UPDATE/DELETE (and TRUNCATE on
    PostgreSQL); a frozen cycle's bonus_budget and bonus_frozen_at refuse to change."""
    if dialect() == "postgresql":
        _create_bonus_postgresql()
        return
    abort = " BEGIN SELECT RAISE(ABORT, 'the bonus table is frozen'); END"
    for verb, condition in BONUS_FROZEN_SQLITE.items():
        op.execute(f'CREATE TRIGGER bonus_line_frozen_{verb.lower()} BEFORE {verb} ON "bonus_line" '
                   f"WHEN {condition}" + abort)
    op.execute('CREATE TRIGGER appraisal_cycle_bonus_frozen BEFORE UPDATE ON "appraisal_cycle" '
               "WHEN OLD.bonus_frozen_at IS NOT NULL AND (NEW.bonus_budget IS NOT OLD.bonus_budget "
               "OR NEW.bonus_frozen_at IS NOT OLD.bonus_frozen_at)" + abort)


def _create_bonus_postgresql():
    frozen = "SELECT 1 FROM appraisal_cycle WHERE id = {row}.cycle_id AND bonus_frozen_at IS NOT NULL"
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kpi_bonus_line_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'TRUNCATE' THEN
            IF EXISTS (SELECT 1 FROM bonus_line AS b JOIN appraisal_cycle AS c ON c.id = b.cycle_id
                       WHERE c.bonus_frozen_at IS NOT NULL) THEN
              RAISE EXCEPTION 'bonus_line holds a frozen bonus table: TRUNCATE refused'
                USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NULL;
          END IF;
          IF (TG_OP <> 'INSERT' AND EXISTS ({frozen.format(row="OLD")}))
             OR (TG_OP <> 'DELETE' AND EXISTS ({frozen.format(row="NEW")})) THEN
            RAISE EXCEPTION 'the bonus table is frozen' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$;
    """)
    op.execute("""
        CREATE OR REPLACE FUNCTION kpi_cycle_bonus_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.bonus_frozen_at IS NOT NULL AND (NEW.bonus_budget IS DISTINCT FROM OLD.bonus_budget
             OR NEW.bonus_frozen_at IS DISTINCT FROM OLD.bonus_frozen_at) THEN
            RAISE EXCEPTION 'the bonus table of cycle % is frozen', OLD.id
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END $$;
    """)
    op.execute('CREATE TRIGGER bonus_line_frozen BEFORE INSERT OR UPDATE OR DELETE ON "bonus_line" '
               "FOR EACH ROW EXECUTE FUNCTION kpi_bonus_line_frozen()")
    op.execute('CREATE TRIGGER bonus_line_no_truncate_frozen BEFORE TRUNCATE ON "bonus_line" '
               "FOR EACH STATEMENT EXECUTE FUNCTION kpi_bonus_line_frozen()")
    op.execute('CREATE TRIGGER appraisal_cycle_bonus_frozen BEFORE UPDATE ON "appraisal_cycle" '
               "FOR EACH ROW EXECUTE FUNCTION kpi_cycle_bonus_frozen()")


def drop_bonus_freeze_triggers():
    if dialect() == "postgresql":
        op.execute('DROP TRIGGER IF EXISTS bonus_line_frozen ON "bonus_line"')
        op.execute('DROP TRIGGER IF EXISTS bonus_line_no_truncate_frozen ON "bonus_line"')
        op.execute('DROP TRIGGER IF EXISTS appraisal_cycle_bonus_frozen ON "appraisal_cycle"')
        op.execute("DROP FUNCTION IF EXISTS kpi_bonus_line_frozen()")
        op.execute("DROP FUNCTION IF EXISTS kpi_cycle_bonus_frozen()")
        return
    for verb in BONUS_FROZEN_SQLITE:
        op.execute(f"DROP TRIGGER IF EXISTS bonus_line_frozen_{verb.lower()}")
    op.execute("DROP TRIGGER IF EXISTS appraisal_cycle_bonus_frozen")


# ---- scorecard_total: each card's item sums, kept on every write to its items (issue 10) ------

TOTAL_COLUMNS = "scorecard_id, weighted, scored, item_count, weights"
# 0039: also the live sums the company dashboard averages (coalesce(final, computed) points: the
# attainment so far), so its attainment by department reads one row per card, not 40,000 items
LIVE_COLUMNS = TOTAL_COLUMNS + ", live_weighted, live_scored, live_weights"
LIVE_POINTS = "COALESCE(i.final_points, i.computed_points)"
# the sums of one card's items; no row once the card itself is gone (a cascaded delete)
TOTAL_SELECT = ("SELECT s.id, {weighted}, COUNT(i.final_points), COUNT(i.id), {weights} "
                "FROM scorecard AS s LEFT JOIN scorecard_item AS i ON i.scorecard_id = s.id "
                "WHERE s.id = {card} GROUP BY s.id")
# an UPDATE changes the sums only through these (scorecard_id: an item moved to another card)
TOTAL_CHANGED = ("OLD.final_points IS DISTINCT FROM NEW.final_points "
                 "OR OLD.weight IS DISTINCT FROM NEW.weight "
                 "OR OLD.scorecard_id IS DISTINCT FROM NEW.scorecard_id")
LIVE_CHANGED = TOTAL_CHANGED + " OR OLD.computed_points IS DISTINCT FROM NEW.computed_points"
TOTAL_TRIGGERS = ("scorecard_total_insert", "scorecard_total_delete", "scorecard_total_update")


def total_touched(changed):
    """PostgreSQL: the cards a statement touched, from its transition tables (an UPDATE: those
    whose items' `changed` columns changed, both cards of a moved item)."""
    return {
        "INSERT": "SELECT scorecard_id FROM new_rows",
        "DELETE": "SELECT scorecard_id FROM old_rows",
        "UPDATE": "SELECT o.scorecard_id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id "
                  "WHERE " + changed.replace("OLD.", "o.").replace("NEW.", "n.") + " "
                  "UNION SELECT n.scorecard_id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id "
                  "WHERE o.scorecard_id IS DISTINCT FROM n.scorecard_id",
    }


TOTAL_TOUCHED = total_touched(TOTAL_CHANGED)
TOTAL_TRANSITIONS = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows",
                     "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}


def create_total_triggers(live=False):
    """scorecard_total follows scorecard_item: after every INSERT, DELETE and UPDATE of an
    item's points, weight or card, the card's row is summed again from all its items (through
    ix_scorecard_item_scorecard_id), so it can never drift from them. PostgreSQL: once per
    statement for every card it touched; SQLite (no statement triggers): once per row.
    live (0039): the live sums too (LIVE_COLUMNS), and a change of computed_points sums again."""
    if dialect() == "postgresql":
        _create_total_postgresql(live)
    else:
        _create_total_sqlite(live)


def fill_totals(live=False):
    """Sum every scorecard that has items (the migration's backfill)."""
    weighted, weights = _total_sums()
    columns, extra = TOTAL_COLUMNS, ""
    if live:
        columns, extra = LIVE_COLUMNS, ", " + ", ".join(_live_sums())
    op.execute(f"INSERT INTO scorecard_total ({columns}) "
               f"SELECT i.scorecard_id, {weighted}, COUNT(i.final_points), COUNT(i.id), {weights}{extra} "
               "FROM scorecard_item AS i GROUP BY i.scorecard_id")


def _total_sums():
    weighted, weights = "SUM(i.final_points * i.weight)", "SUM(i.weight)"
    if dialect() == "sqlite":  # NUMERIC is a float there: back to the exact places
        return f"ROUND({weighted}, 4)", f"ROUND({weights}, 2)"
    return weighted, weights


def _live_sums():
    """(Σ live points × weight, items with live points, Σ weight of those items) of a card's items
    `i`: what the company dashboard's attainment averages."""
    weighted = f"SUM({LIVE_POINTS} * i.weight)"
    weights = f"SUM(CASE WHEN {LIVE_POINTS} IS NOT NULL THEN i.weight END)"
    if dialect() == "sqlite":
        weighted, weights = f"ROUND({weighted}, 4)", f"ROUND({weights}, 2)"
    return weighted, f"COUNT({LIVE_POINTS})", weights


def _total_select(live):
    """(the columns, the SELECT of one card's row with {card} to fill, the UPDATE's condition)."""
    weighted, weights = _total_sums()
    select = TOTAL_SELECT.format(weighted=weighted, weights=weights, card="{card}")
    if not live:
        return TOTAL_COLUMNS, select, TOTAL_CHANGED
    select = select.replace(" FROM scorecard AS s", ", " + ", ".join(_live_sums()) + " FROM scorecard AS s")
    return LIVE_COLUMNS, select, LIVE_CHANGED


def _create_total_postgresql(live=False):
    """Statement triggers with transition tables: one aggregate per statement over the cards it
    touched, so the recompute's bulk UPDATE of 40,000 items sums 5,000 cards once (a row
    trigger summed each card again for each of its items: 2.8 s → 22 s for that UPDATE).

    The touched cards' rows are locked (in id order) before they are summed, in a statement of
    their own: under READ COMMITTED the sum then takes a fresh snapshot, so a concurrent writer
    of other items of the same card, which holds those rows until it commits, is waited for and
    its items counted, not summed from before its commit. (The services and the recompute lock
    the scorecard itself first anyway; this covers bulk and raw writes.)"""
    columns, select, changed = _total_select(live)
    cards = select.replace("WHERE s.id = {card}", "WHERE s.id IN ({card})")
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns.split(", ")[1:])
    branches = "\n          ELS".join(
        f"""IF TG_OP = '{verb}' THEN
            PERFORM 1 FROM scorecard_total WHERE scorecard_id IN ({touched}) ORDER BY scorecard_id FOR UPDATE;
            INSERT INTO scorecard_total ({columns})
            {cards.format(card=touched)}
            ON CONFLICT (scorecard_id) DO UPDATE SET {updates};"""
        for verb, touched in total_touched(changed).items())
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kpi_scorecard_total() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {branches}
          END IF;
          RETURN NULL;
        END $$;
    """)
    for verb, tables in TOTAL_TRANSITIONS.items():
        op.execute(f'CREATE TRIGGER scorecard_total_{verb.lower()} AFTER {verb} ON "scorecard_item" '
                   f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION kpi_scorecard_total()")


def _create_total_sqlite(live=False):
    columns, select, changed = _total_select(live)

    def upsert(row):
        return f"INSERT OR REPLACE INTO scorecard_total ({columns}) " + select.format(card=f"{row}.scorecard_id") + ";"

    changed = changed.replace("IS DISTINCT FROM", "IS NOT")
    for verb, row in (("INSERT", "NEW"), ("DELETE", "OLD")):
        op.execute(f'CREATE TRIGGER scorecard_total_{verb.lower()} AFTER {verb} ON "scorecard_item" '
                   f"BEGIN {upsert(row)} END")
    op.execute(f'CREATE TRIGGER scorecard_total_update AFTER UPDATE ON "scorecard_item" WHEN {changed} '
               f'BEGIN {upsert("OLD")} {upsert("NEW")} END')


def drop_total_triggers():
    drop_item_triggers(TOTAL_TRIGGERS, ("kpi_scorecard_total",))


def drop_item_triggers(names, functions):
    """Drop the triggers `names` on scorecard_item, and on PostgreSQL their `functions` too."""
    postgresql = dialect() == "postgresql"
    for name in names:
        op.execute(f'DROP TRIGGER IF EXISTS {name} ON "scorecard_item"' if postgresql
                   else f"DROP TRIGGER IF EXISTS {name}")
    for function in functions if postgresql else ():
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")


# ---- scorecard_item_store: the stores each item's scope names, kept on every write (issue 10) --

ITEM_STORE_TRIGGERS = ("scorecard_item_store_insert", "scorecard_item_store_delete", "scorecard_item_store_update")
# a JSON store id as PostgreSQL's CAST(... AS INTEGER) reads it (digits, a sign, blanks around),
# else none: a malformed scope must not fail the write of its item (the JSON expansion the
# dashboards ran raised on it instead, on every request)
_PG_STORE_ID = ("CASE WHEN e.value ->> 'store_id' ~ '^[[:space:]]*[+-]?[0-9]+[[:space:]]*$' THEN "
                "CASE WHEN CAST(e.value ->> 'store_id' AS NUMERIC) BETWEEN -2147483648 AND 2147483647 "
                "THEN CAST(e.value ->> 'store_id' AS INTEGER) END END")


def item_store_pairs(items, item_id="id", scope="scope"):
    """SELECT DISTINCT (item id, store id) of the items `items` (a FROM item: a table, a
    transition table, a one-row VALUES), one row per store their JSON scope names: an array of
    objects ([{"store_id": 3, "share_pct": "40.00"}]); an entry naming a store twice gives one
    row, an entry without a store id none, a scope that is not an array none. The same text
    fills the table (the migration) and keeps it (the triggers)."""
    if dialect() == "postgresql":
        return (f"SELECT DISTINCT s.item_id, s.store_id FROM {items} AS i CROSS JOIN LATERAL "
                f"(SELECT i.{item_id} AS item_id, {_PG_STORE_ID} AS store_id FROM json_array_elements("
                f"CASE WHEN json_typeof(i.{scope}) = 'array' THEN i.{scope} END) AS e) AS s "
                "WHERE s.store_id IS NOT NULL")
    # SQLite: json_each of anything else than a valid array would raise, or walk an object
    array = f"CASE WHEN json_valid(i.{scope}) AND json_type(i.{scope}) = 'array' THEN i.{scope} END"
    return (f"SELECT DISTINCT i.{item_id}, CAST(json_extract(e.value, '$.store_id') AS INTEGER) "
            f"FROM {items} AS i, json_each({array}) AS e "
            "WHERE e.type = 'object' AND json_extract(e.value, '$.store_id') IS NOT NULL")


def fill_item_stores():
    """Expand every item's scope (the migration's backfill)."""
    op.execute(f"INSERT INTO scorecard_item_store (item_id, store_id) {item_store_pairs('scorecard_item')}")


def create_item_store_triggers():
    """scorecard_item_store follows scorecard_item: an inserted item's stores are added, a
    deleted item's removed (a card deleted too: its items' cascaded DELETE fires these), an
    item whose scope changes has its rows replaced. PostgreSQL: INSERT and DELETE once per
    statement from the transition tables (a cycle's start inserts every card's items at once);
    the UPDATE per row, only when the statement sets `scope` and the text differs, so the
    recompute's bulk UPDATE of actuals and points never runs it. SQLite: per row."""
    if dialect() == "postgresql":
        _create_item_store_postgresql()
    else:
        _create_item_store_sqlite()


def _create_item_store_postgresql():
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kpi_scorecard_item_store() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            INSERT INTO scorecard_item_store (item_id, store_id) {item_store_pairs('new_rows')}
            ON CONFLICT DO NOTHING;
          ELSE
            DELETE FROM scorecard_item_store WHERE item_id IN (SELECT id FROM old_rows);
          END IF;
          RETURN NULL;
        END $$;
    """)
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kpi_scorecard_item_store_scope() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          DELETE FROM scorecard_item_store WHERE item_id = OLD.id;
          INSERT INTO scorecard_item_store (item_id, store_id)
          {item_store_pairs("(SELECT NEW.id AS id, NEW.scope AS scope)")};
          RETURN NULL;
        END $$;
    """)
    op.execute('CREATE TRIGGER scorecard_item_store_insert AFTER INSERT ON "scorecard_item" '
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_scorecard_item_store()")
    op.execute('CREATE TRIGGER scorecard_item_store_delete AFTER DELETE ON "scorecard_item" '
               "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_scorecard_item_store()")
    op.execute('CREATE TRIGGER scorecard_item_store_update AFTER UPDATE OF scope ON "scorecard_item" FOR EACH ROW '
               "WHEN (OLD.scope::text IS DISTINCT FROM NEW.scope::text) "
               "EXECUTE FUNCTION kpi_scorecard_item_store_scope()")


def _create_item_store_sqlite():
    def add(row):
        pairs = item_store_pairs(f"(SELECT {row}.id AS id, {row}.scope AS scope)")
        return f"INSERT OR IGNORE INTO scorecard_item_store (item_id, store_id) {pairs};"

    remove = "DELETE FROM scorecard_item_store WHERE item_id = OLD.id;"
    op.execute(f'CREATE TRIGGER scorecard_item_store_insert AFTER INSERT ON "scorecard_item" BEGIN {add("NEW")} END')
    op.execute(f'CREATE TRIGGER scorecard_item_store_delete AFTER DELETE ON "scorecard_item" BEGIN {remove} END')
    op.execute('CREATE TRIGGER scorecard_item_store_update AFTER UPDATE OF scope ON "scorecard_item" '
               f'WHEN OLD.scope IS NOT NEW.scope BEGIN {remove} {add("NEW")} END')


def drop_item_store_triggers():
    drop_item_triggers(ITEM_STORE_TRIGGERS, ("kpi_scorecard_item_store", "kpi_scorecard_item_store_scope"))


# ---- scorecard_item's stored at-risk flag: emptied when an input of the rule changes (issue 10) --

RISK_TRIGGERS = ("scorecard_item_risk_stale", "scorecard_item_risk_stale_insert")
# the item's own columns the at-risk rule reads (tracking/risk.py straight_line_risk, metric_item;
# `direction` is generated from `rule`), and its card (whose cycle gives the dates)
RISK_INPUTS = ("actual", "data_as_of", "target", "threshold", "rule", "metric_key", "kind", "scorecard_id")
RISK_FLAG = ("risk_flag", "risk_day", "risk_lasts", "risk_basis")


def create_risk_triggers():
    """A stored at-risk flag (models/appraisal.py ScorecardItem) is emptied by the database
    whenever an item is inserted with one or an UPDATE changes an input of the rule, whatever
    writes it (the ORM, the recompute's bulk UPDATE, raw SQL): a flag present was computed
    from the item as it is. PostgreSQL: a BEFORE row trigger clears the new row (no second
    write); SQLite, whose BEFORE triggers cannot change the row: an AFTER trigger updates it
    (only its flag columns, which fire nothing else). A card moved to another cycle (no
    service does it; raw SQL could) has its items' flags emptied too: they were computed with
    the other cycle's dates and basis."""
    if dialect() == "postgresql":
        _create_risk_postgresql()
    else:
        _create_risk_sqlite()


def _clear_flags(where):
    return "UPDATE scorecard_item SET " + ", ".join(f"{c} = NULL" for c in RISK_FLAG) + f" WHERE {where};"


def _create_risk_postgresql():
    old = ", ".join(f"OLD.{c}::text" if c == "rule" else f"OLD.{c}" for c in RISK_INPUTS)
    new = old.replace("OLD.", "NEW.")
    clear = " ".join(f"NEW.{c} := NULL;" for c in RISK_FLAG)
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kpi_scorecard_item_risk_stale() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' OR ROW({old}) IS DISTINCT FROM ROW({new}) THEN
            {clear}
          END IF;
          RETURN NEW;
        END $$;
    """)
    inputs = ", ".join(RISK_INPUTS)
    op.execute(f'CREATE TRIGGER scorecard_item_risk_stale BEFORE UPDATE OF {inputs} ON "scorecard_item" '
               "FOR EACH ROW EXECUTE FUNCTION kpi_scorecard_item_risk_stale()")
    op.execute('CREATE TRIGGER scorecard_item_risk_stale_insert BEFORE INSERT ON "scorecard_item" '
               "FOR EACH ROW WHEN (NEW.risk_day IS NOT NULL OR NEW.risk_flag IS NOT NULL) "
               "EXECUTE FUNCTION kpi_scorecard_item_risk_stale()")
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kpi_scorecard_risk_moved() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {_clear_flags("scorecard_id = NEW.id AND risk_basis IS NOT NULL")}
          RETURN NULL;
        END $$;
    """)
    op.execute('CREATE TRIGGER scorecard_risk_moved AFTER UPDATE OF cycle_id ON "scorecard" FOR EACH ROW '
               "WHEN (OLD.cycle_id IS DISTINCT FROM NEW.cycle_id) EXECUTE FUNCTION kpi_scorecard_risk_moved()")


def _create_risk_sqlite():
    clear = ("UPDATE scorecard_item SET " + ", ".join(f"{c} = NULL" for c in RISK_FLAG)
             + " WHERE id = NEW.id;")
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in RISK_INPUTS)
    present = " OR ".join(f"NEW.{c} IS NOT NULL" for c in RISK_FLAG)
    op.execute(f'CREATE TRIGGER scorecard_item_risk_stale AFTER UPDATE OF {", ".join(RISK_INPUTS)} '
               f'ON "scorecard_item" WHEN ({changed}) AND ({present}) BEGIN {clear} END')
    op.execute('CREATE TRIGGER scorecard_item_risk_stale_insert AFTER INSERT ON "scorecard_item" '
               f"WHEN {present} BEGIN {clear} END")
    op.execute('CREATE TRIGGER scorecard_risk_moved AFTER UPDATE OF cycle_id ON "scorecard" '
               f'WHEN OLD.cycle_id IS NOT NEW.cycle_id BEGIN {_clear_flags("scorecard_id = NEW.id")} END')


def drop_risk_triggers():
    postgresql = dialect() == "postgresql"
    op.execute('DROP TRIGGER IF EXISTS scorecard_risk_moved ON "scorecard"' if postgresql
               else "DROP TRIGGER IF EXISTS scorecard_risk_moved")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS kpi_scorecard_risk_moved()")
    drop_item_triggers(RISK_TRIGGERS, ("kpi_scorecard_item_risk_stale",))


# ---- fact_month: a rate written marks its month (issue 10) -----------------------------------

RATE_MARK_TRIGGERS = ("fx_rate_mark_insert", "fx_rate_mark_update", "fx_rate_mark_delete")
RATE_MARK_TRANSITIONS = {"INSERT": ("NEW TABLE AS new_rows", "SELECT date FROM new_rows"),
                         "UPDATE": ("OLD TABLE AS old_rows NEW TABLE AS new_rows",
                                    "SELECT date FROM old_rows UNION SELECT date FROM new_rows"),
                         "DELETE": ("OLD TABLE AS old_rows", "SELECT date FROM old_rows")}


def create_rate_mark_triggers():
    """Every INSERT, UPDATE and DELETE of fx_rate marks the months of its rows' dates (old and
    new) in fact_month_stale, whatever writes it: fact_month's sums of a marked month were
    converted at other rates, so a reader takes that month from fact_pick until
    `fact_month.refresh_rates` rewrites it (kpiapp/metrics/fact_month.py). PostgreSQL: once per
    statement from the transition tables; the upsert takes the mark's row lock, so a refresh
    deleting the mark meanwhile is waited for and the month marked again. SQLite: per row."""
    if dialect() == "postgresql":
        for verb, (transitions, dates) in RATE_MARK_TRANSITIONS.items():
            op.execute(f"""
                CREATE OR REPLACE FUNCTION kpi_fx_rate_mark_{verb.lower()}() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO fact_month_stale (month, marks)
                  SELECT DISTINCT CAST(date_trunc('month', date) AS DATE), 1 FROM ({dates}) AS d
                  ON CONFLICT (month) DO UPDATE SET marks = fact_month_stale.marks + 1;
                  RETURN NULL;
                END $$;
            """)
            op.execute(f'CREATE TRIGGER fx_rate_mark_{verb.lower()} AFTER {verb} ON "fx_rate" '
                       f"REFERENCING {transitions} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION kpi_fx_rate_mark_{verb.lower()}()")
        return
    mark = ("INSERT INTO fact_month_stale (month, marks) VALUES (date({row}.date, 'start of month'), 1) "
            "ON CONFLICT (month) DO UPDATE SET marks = marks + 1;")
    for verb, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        body = " ".join(mark.format(row=row) for row in rows)
        op.execute(f'CREATE TRIGGER fx_rate_mark_{verb.lower()} AFTER {verb} ON "fx_rate" BEGIN {body} END')


RATE_TRUNCATE_TRIGGER = "fx_rate_mark_truncate"


def create_rate_truncate_mark():
    """PostgreSQL: a TRUNCATE of fx_rate (which fires no row or transition-table trigger) marks
    the month of every rate it removes, read before they go (BEFORE TRUNCATE), so fact_month's
    sums converted at those rates are read from fact_pick until a refresh writes them again
    (migration 0037). SQLite has no TRUNCATE: its DELETE fires the row triggers above."""
    if dialect() != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kpi_{RATE_TRUNCATE_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO fact_month_stale (month, marks)
          SELECT DISTINCT CAST(date_trunc('month', date) AS DATE), 1 FROM fx_rate
          ON CONFLICT (month) DO UPDATE SET marks = fact_month_stale.marks + 1;
          RETURN NULL;
        END $$;
    """)
    op.execute(f'CREATE TRIGGER {RATE_TRUNCATE_TRIGGER} BEFORE TRUNCATE ON "fx_rate" '
               f"FOR EACH STATEMENT EXECUTE FUNCTION kpi_{RATE_TRUNCATE_TRIGGER}()")


def drop_rate_truncate_mark():
    if dialect() == "postgresql":
        op.execute(f'DROP TRIGGER IF EXISTS {RATE_TRUNCATE_TRIGGER} ON "fx_rate"')
        op.execute(f"DROP FUNCTION IF EXISTS kpi_{RATE_TRUNCATE_TRIGGER}()")


def drop_rate_mark_triggers():
    for name in RATE_MARK_TRIGGERS:
        if dialect() == "postgresql":
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON "fx_rate"')
            op.execute(f"DROP FUNCTION IF EXISTS kpi_{name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


# ---- the data version (docs/dashboards.md, "The memo") --------------------------------------

# Tables whose writes never change a memoized page: the audit log, login and token bookkeeping,
# jobs, notification outboxes and logs, an import's scratch rows (fact_stage: read by nothing but
# the import, which writes metric_fact and fact_day in the same transaction), and the version
# itself. Every other table is tracked: a new table's migration calls `track_data_version(table)`
# or the table is named here (tests/web/test_dashboard_memo.py refuses a table that is neither).
UNTRACKED = frozenset({"alembic_version", "audit_event", "audit_refusal", "api_token", "job_run",
                       "notification", "notification_delivery", "reminder_log", "fact_stage",
                       "data_version", "data_touch"})
TOUCHED = "kpiapp.data_touched"  # PostgreSQL: transaction-local flag, this transaction is noted in data_touch


def create_data_version():
    """The functions the tracked tables' triggers call (PostgreSQL) and the token's first value.

    PostgreSQL: a statement-level trigger on each tracked table (INSERT, UPDATE, DELETE, TRUNCATE;
    COPY fires INSERT's; since 0037 only a statement that changed a row: `track_data_version`)
    notes the transaction once in data_touch (a transaction-local flag spares
    the later statements the insert; a savepoint's rollback takes back both the row and the flag).
    A deferred constraint trigger on data_touch then runs at COMMIT: a new random token and the
    row deleted. So the one row of data_version is locked only while a transaction commits, never
    while it works, and a rollback leaves the token as it was.
    SQLite has only row triggers: each written row sets a new token at once, in the writing
    transaction (SQLite serialises writers; a rollback takes the token back too)."""
    if dialect() == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION kpi_data_touched() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF current_setting('{TOUCHED}', true) IS DISTINCT FROM 'on' THEN
                INSERT INTO data_touch (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
                PERFORM set_config('{TOUCHED}', 'on', true);
              END IF;
              RETURN NULL;
            END $$;
        """)
        op.execute("""
            CREATE OR REPLACE FUNCTION kpi_data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              UPDATE data_version SET token = gen_random_uuid()::text;
              DELETE FROM data_touch WHERE txid = NEW.txid;
              RETURN NULL;
            END $$;
        """)
        op.execute("CREATE CONSTRAINT TRIGGER data_touch_commit AFTER INSERT ON data_touch "
                   "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kpi_data_version_bump()")
        op.execute("INSERT INTO data_version (id, token) VALUES (1, gen_random_uuid()::text)")
        return
    op.execute(f"INSERT INTO data_version (id, token) VALUES (1, {SQLITE_TOKEN})")


SQLITE_TOKEN = "lower(hex(randomblob(16)))"
SQLITE_VERBS = ("insert", "update", "delete")


# Columns of a tracked table whose UPDATE never changes a memoized page: a person's sign-in
# bookkeeping. Every login writes last_login_at (and resets failed_logins, locked_until); were it
# tracked, each login would make the next dashboard request build its page again. An UPDATE of
# any other column of the table, and every INSERT, DELETE and TRUNCATE, still changes the token
# (tests/web/test_dashboard_memo.py checks that the trigger names every other column).
UNTRACKED_COLUMNS = {"user": frozenset({"last_login_at", "failed_logins", "locked_until", "session_token",
                                        "password_hash", "totp_secret", "totp_enabled", "totp_last_counter",
                                        "recovery_codes"})}


def tracked_columns(table, columns):
    """The columns of `table` (names, in table order) whose UPDATE changes the token."""
    untracked = UNTRACKED_COLUMNS.get(table, frozenset())
    return [name for name in columns if name not in untracked]


# PostgreSQL (migration 0037): each tracked table's statement triggers read the rows the statement
# changed from a transition table and note the transaction only when there is one; an UPDATE or
# DELETE that matched no row (a lost compare-and-set, a job or a reminder that found nothing, an
# upsert that did nothing) leaves the token. TRUNCATE has no transition table and always counts.
# Transition tables allow one event per trigger and no column list: a table tracked on some
# columns only ("user") has a row trigger for UPDATE OF those columns (it fires per changed row).
CHANGED_ROWS = {"insert": "NEW", "update": "NEW", "delete": "OLD"}
# ... but the fact tables an import writes and rewrites in bulk keep the trigger of every
# statement: a transition table holds every row a statement changed, and on them that cost
# 20-60% more per large DELETE (docs/scaling.md "The data token's gaps"). Nothing is lost: a
# transaction that writes them (an import, a rebuild, a bulk fix) also writes a row elsewhere
# or changes rows here; none of the zero-row writes the token must ignore touches them.
# fact_pick_day (0038) is written only beside fact_pick, by deltas appended and folded in bulk.
EVERY_STATEMENT = frozenset({"metric_fact", "fact_day", "fact_pick", "fact_month", "fact_pick_day"})
CHANGED_FUNCTION = "kpi_data_changed"


def create_data_changed():
    """The function of the transition-table triggers (PostgreSQL; migration 0037)."""
    if dialect() != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION {CHANGED_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF current_setting('{TOUCHED}', true) IS DISTINCT FROM 'on' AND EXISTS (SELECT 1 FROM changed_rows) THEN
            INSERT INTO data_touch (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
            PERFORM set_config('{TOUCHED}', 'on', true);
          END IF;
          RETURN NULL;
        END $$;
    """)


def drop_data_changed():
    if dialect() == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {CHANGED_FUNCTION}()")
        op.execute(f"DROP FUNCTION IF EXISTS {UPDATE_FUNCTION}()")


# 0041: an UPDATE counts only a row that really changed. The statement's old and new rows (its
# transition tables) are joined on the table's primary key; a new row without an old row of its key
# and the same binary image (`*=`, record_image_eq: defined for every column type, json included,
# which has no equality operator; stricter than IS DISTINCT FROM, so 1.0 -> 1.00, which prints
# otherwise, still counts) is a change. The statement's first row is looked at alone first (a scan
# of the old rows for its key): a bulk writer writes rows that changed, so it pays no join. Else
# a hash anti-join, stopping at the first change (nested loops are off in the function: EXISTS
# asks the planner for a fast start, and a nested loop over two tuplestores is quadratic when no
# row changed: 1.4 s for 800 rows). Tables keyed on "id" share one function;
# the others (their key named in the function) have one each: UPDATE_FUNCTION.
UPDATE_FUNCTION = "kpi_data_changed_update"


def update_function(table, key):
    return UPDATE_FUNCTION if key == ["id"] else f"kpi_{table}_data_changed_update"


def create_update_trigger(table):
    """PostgreSQL: `table`'s UPDATE trigger counting only rows that changed (0041). A table
    without a primary key counts any row of the statement, as 0037 did."""
    key = sa.inspect(op.get_bind()).get_pk_constraint(table)["constrained_columns"]
    name = f"{table}_data_version_update"
    if not key:
        op.execute(f'CREATE TRIGGER {name} AFTER UPDATE ON "{table}" REFERENCING NEW TABLE AS changed_rows '
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {CHANGED_FUNCTION}()")
        return
    same_key, first_key = (" AND ".join(f'o."{column}" = {row}."{column}"' for column in key)
                           for row in ("n", "first"))
    function = update_function(table, key)
    op.execute(f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql
        SET enable_nestloop = off AS $$
        DECLARE
          first record;
        BEGIN
          IF current_setting('{TOUCHED}', true) IS NOT DISTINCT FROM 'on' THEN RETURN NULL; END IF;
          SELECT * INTO first FROM new_rows LIMIT 1;
          IF NOT FOUND THEN RETURN NULL; END IF;
          IF NOT EXISTS (SELECT 1 FROM old_rows AS o WHERE {first_key} AND o *= first)
             OR EXISTS (SELECT 1 FROM new_rows AS n
                        WHERE NOT EXISTS (SELECT 1 FROM old_rows AS o WHERE {same_key} AND o *= n)) THEN
            INSERT INTO data_touch (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
            PERFORM set_config('{TOUCHED}', 'on', true);
          END IF;
          RETURN NULL;
        END $$;
    """)
    op.execute(f'CREATE TRIGGER {name} AFTER UPDATE ON "{table}" '
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               f"EXECUTE FUNCTION {function}()")


def row_changed(columns, postgresql):
    """A row trigger's WHEN: one of `columns` has another value (0041). PostgreSQL: their
    binary images, as the statement triggers compare (json has no equality operator)."""
    if postgresql:
        old, new = (", ".join(f'{row}."{c}"' for c in columns) for row in ("OLD", "NEW"))
        return f"NOT (ROW({old})::record *= ROW({new})::record)"
    return " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in columns)


def table_columns(table):
    return [c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)]


def track_data_version(table, columns=None, every_statement=False, compare=True):
    """`table`'s writes change the data token (create_data_version); with `columns`, an UPDATE
    only when it sets one of them (`UPDATE OF`: both databases fire on the columns named in
    the statement's SET, whatever their values).

    PostgreSQL: only a statement that changed a row (CHANGED_ROWS; TRUNCATE always), but on the
    EVERY_STATEMENT tables; `every_statement` makes the triggers of migrations 0034 and 0036,
    which counted every statement, even one that changed no row. SQLite's row triggers fire per
    changed row.
    `compare` (0041; off, or every_statement: the earlier migrations' triggers): an UPDATE counts only a row whose (tracked) columns
    changed value, not one set to the value it had: PostgreSQL by `create_update_trigger`, or a
    WHEN on "user"'s row trigger; SQLite by a WHEN naming every tracked column (so a column added
    to a tracked table needs its triggers made again: tests/web/test_dashboard_memo.py checks).
    The EVERY_STATEMENT tables count every UPDATE on both databases."""
    verbs = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}
    if columns is not None:
        verbs["update"] = "UPDATE OF " + ", ".join(f'"{name}"' for name in columns)
    postgresql = dialect() == "postgresql"
    compare = compare and not every_statement and table not in EVERY_STATEMENT
    if postgresql and (every_statement or table in EVERY_STATEMENT):
        triggers = ({"": "INSERT OR UPDATE OR DELETE OR TRUNCATE"} if columns is None
                    else {"": "INSERT OR DELETE OR TRUNCATE", "_update": verbs["update"]})
        for suffix, events in triggers.items():
            op.execute(f'CREATE TRIGGER {table}_data_version{suffix} AFTER {events} '
                       f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION kpi_data_touched()')
        return
    if postgresql:
        for verb, rows in CHANGED_ROWS.items():
            name = f"{table}_data_version_{verb}"
            if verb == "update" and columns is not None:
                when = f"WHEN ({row_changed(columns, True)}) " if compare else ""
                op.execute(f'CREATE TRIGGER {name} AFTER {verbs[verb]} ON "{table}" '
                           f"FOR EACH ROW {when}EXECUTE FUNCTION kpi_data_touched()")
                continue
            if verb == "update" and compare:
                create_update_trigger(table)
                continue
            op.execute(f'CREATE TRIGGER {name} AFTER {verbs[verb]} ON "{table}" '
                       f"REFERENCING {rows} TABLE AS changed_rows FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION {CHANGED_FUNCTION}()")
        op.execute(f'CREATE TRIGGER {table}_data_version_truncate AFTER TRUNCATE ON "{table}" '
                   "FOR EACH STATEMENT EXECUTE FUNCTION kpi_data_touched()")
        return
    for verb in SQLITE_VERBS:
        when = ""
        if verb == "update" and compare:
            when = f"WHEN {row_changed(columns or table_columns(table), False)} "
        op.execute(f'CREATE TRIGGER {table}_data_version_{verb} AFTER {verbs[verb]} ON "{table}" '
                   f"{when}BEGIN UPDATE data_version SET token = {SQLITE_TOKEN}; END")


def data_version_trigger_names(table):
    """Every name a data-version trigger of `table` has had (0034/0036's and 0037's)."""
    postgresql = ("", "_update", "_insert", "_delete", "_truncate")
    return [f"{table}_data_version{suffix}" for suffix in postgresql] if dialect() == "postgresql" \
        else [f"{table}_data_version_{verb}" for verb in SQLITE_VERBS]


def untrack_data_version(table):
    for name in data_version_trigger_names(table):
        op.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"' if dialect() == "postgresql"
                   else f"DROP TRIGGER IF EXISTS {name}")
    if dialect() == "postgresql":  # a table's own UPDATE function (create_update_trigger), if any
        op.execute(f"DROP FUNCTION IF EXISTS kpi_{table}_data_changed_update()")


def drop_data_version():
    if dialect() == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS data_touch_commit ON data_touch")
        op.execute("DROP FUNCTION IF EXISTS kpi_data_version_bump()")
        op.execute("DROP FUNCTION IF EXISTS kpi_data_touched()")
