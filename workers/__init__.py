"""RQ entry points: thin functions that load ids, call one service, report progress."""
