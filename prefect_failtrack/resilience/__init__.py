"""Resilience: the dependency a failure hit, a circuit breaker per dependency, dead letters, requeue.

Design note (issue 16). What each part does, where its state lives, and why.

Dependencies (`dependencies`)
    A failure names the dependency it hit when that can be known. From the
    decorator first: ``tracked_task(dependency="warehouse")``, or a callable
    that gets the task run's parameters (a dict) and returns a name. Otherwise
    from the exception, read by attribute shape, never by importing the library
    (as ``classification/introspect.py`` does): an HTTP request's URL
    (httpx ``request.url``, requests ``request.url``, aiohttp
    ``request_info.url`` or ``host``/``port``, urllib3's ``pool``/``conn``),
    botocore's ``endpoint_url``, a libpq connection (psycopg's ``pgconn``),
    and the messages drivers write (libpq, redis-py, asyncio's "Connect call
    failed"). The name is ``scheme://host:port`` (plus ``/database`` for a
    database): no user, password, path or query is ever part of it. It is stored
    on the row (``failtrack_transitions.dependency``).

Where the breaker's state lives: the audit database (`circuit_store`)
    Two tables, ``failtrack_circuits`` (one row per dependency: state, since,
    half-open time, the probe holder) and ``failtrack_circuit_failures`` (one row
    per dependency and run that failed TRANSIENT/TIMEOUT, for the window). Every
    change is one transaction that locks the circuit's row first (``SELECT ...
    FOR UPDATE`` on PostgreSQL; on SQLite the first statement is a write, which
    takes the database's write lock), and every transition is a compare-and-set
    ``UPDATE ... WHERE state = ...``: of two processes that see the threshold
    crossed, one opens the circuit and emits the event; of two runs that reach a
    half-open circuit, one gets the probe. It survives restarts, like the rows.

    Prefect's own primitives were considered and not chosen:

    - global concurrency limits: a task's tags become ``tag:<tag>`` limits, which
      the task engine acquires before every attempt (``task_engine.py``,
      ``SyncTaskRunEngine.start``: ``_concurrency(names=[f"tag:{tag}" ...])``) —
      an API call per attempt of every tagged task, succeeding or not, the
      thing this breaker must not cost. A limit has no failure window, no "since",
      and nothing flips it to half-open when the open time is up (a process would
      have to be awake for it). A blocked task waits in Pending, not in an
      AwaitingRetry the UI shows with its time.
    - variables: no compare-and-set, so two processes could both open a circuit
      (two events) or lose a close; a read is an API call.

    The audit database is already where every recording process writes, the
    failures it counts are its rows' neighbours, and reports join the two. A
    process that cannot reach it (no database, a worker that ships its rows as
    events) runs with the breaker open-handed: as if every circuit were closed.

Thresholds (`circuit_settings`)
    A circuit opens when TRANSIENT or TIMEOUT failures on the dependency come
    from ``threshold`` distinct runs within ``window`` seconds; distinct flow runs
    by default (``circuit_distinct``), so one bad client cannot open it for
    everyone. PERMANENT and VALIDATION failures never count. It stays open
    ``open_seconds``, then is half-open: the first run that asks takes the probe
    (one at a time; a probe not heard of within ``probe_timeout`` seconds is
    given to the next run that asks); the probe's success closes it, its
    TRANSIENT/TIMEOUT failure opens it again for ``open_seconds``. Settings per
    dependency, in ``PREFECT_INTEGRATIONS_FAILTRACK_CIRCUIT_*`` and the
    ``circuits`` part of the ``FailtrackConfig`` block; ``circuit_enabled`` is the
    off switch (dependencies are still named and stored).

Not calling a dependency whose circuit is open (`guard`, `retrying`)
    Prefect's hooks cannot stop a run (``call_hooks`` logs and swallows their
    errors), and the retry condition is asked only after a failure. So
    `tracked_task` hands Prefect the task function behind a `CircuitGuard`: an
    object that checks the circuit, then calls the function. A plain wrapping
    function would change what Prefect derives from ``task.fn``: the task key
    (``tasks.py``, ``_generate_task_key``: the qualified name plus a hash of
    ``fn.__code__``) would become the same for every wrapped task of one name,
    and ``task_input_hash`` (which hashes ``task.fn.__code__.co_code``) would no
    longer change when the task's body does. The guard is "function-like"
    (``inspect._signature_is_functionlike``): it carries the function's own
    ``__code__``, ``__defaults__``, names and ``__wrapped__``, so the task key,
    the cache keys, ``inspect.getsource`` (``TaskSource``), the signature and
    ``iscoroutinefunction``/``isgeneratorfunction`` (code flags) are the
    function's own; a test keeps them equal to a plain ``@task``'s.

    When the circuit is open, the guard raises `CircuitOpen` (a
    ``DependencyFailed``: DEPENDENCY) instead of calling. The retry condition
    answers it, or a TRANSIENT/TIMEOUT failure on a dependency whose circuit is
    open, with an ``AwaitingRetry`` scheduled for the half-open time (through the
    same ``ClassDelays`` bridge as class delays), charging no class attempt. When
    half-open with another run's probe in flight, it waits a quarter of the open
    time (at least a second, at most the probe's deadline) and asks again.

    Prefect's own counter: ``handle_retry`` increments the engine's ``retries``
    on every retry, a circuit wait included, and stops asking the condition once
    it reaches ``task.retries``. So a tracked task's default ``retries`` is its
    policy's class budget plus ``circuit_waits``; a ``retries=N`` given by the
    user is respected, and circuit waits then come out of those N. A run fails
    fast, as DEPENDENCY with "circuit open for <dependency> since <time>", when
    it has waited ``circuit_waits`` times, when the next half-open time is past
    ``circuit_max_wait`` seconds from its first wait, or when Prefect has no retry
    left. That failure is stored as retryable: it is a dead letter.

    A task's first attempt is guarded only when the task names its dependency
    in the decorator; a dependency learnt from an exception guards that run's
    later attempts. Plain ``@task(**task_options(dependency=...))`` users get the
    scheduling but not the guard (the options cannot replace the function); their
    run's success closes a half-open circuit all the same (noticed on completion).

    Cost on success: the guard reads the circuit from a per-process cache
    (``circuit_cache_seconds``, 1 s); a miss reads one row. Only the probe's
    success writes. Measured in ``tests/bench/bench_breaker.py``.

Events (`events`)
    ``failtrack.circuit.opened`` and ``failtrack.circuit.closed``, resource
    ``failtrack.circuit.<dependency>`` named after the dependency, sent by the
    process whose compare-and-set won; event ids derive from the dependency and
    the trip count, so a resend is one event.

Dead letters (`dead_letters`) and requeue (`requeue`)
    A dead letter is a flow run whose last state is Failed, failed by at least
    one retryable failure (its class budget spent, a retryable class it could not
    retry, or a circuit that stayed open) and by no PERMANENT or VALIDATION one.
    They are derived from the stored rows, not kept in a list of their own: every
    process writes the rows they come from. The flow's parameters are stored,
    redacted, in its Running row's metadata (for display); requeue reads the real
    ones from Prefect. ``failtrack requeue`` creates a new flow run of the same
    deployment with the same parameters (``run_deployment``, with an idempotency
    key per dead letter: Prefect itself refuses a second one), records the link in
    ``failtrack_requeues`` (the dead letter's id is its primary key) and labels the
    new run ``failtrack.requeue-of``. A flow run without a deployment is listed
    and cannot be requeued. Opt-in (``requeue_on_close``): when a circuit closes,
    the process that closed it requeues that dependency's dead letters.

Never changing an outcome (`safety`)
    Every entry point here is guarded: an error is logged and counted
    (`safety.ERRORS`), and the answer is the neutral one (no circuit, no
    dependency). Database calls of the breaker run in a short-lived daemon thread,
    joined for ``STORE_TIMEOUT_S`` (2 s) at most; a store that fails is left alone
    for a growing while (1 s, doubling up to 60 s), one that hangs for 30 s at
    least; meanwhile circuits read as closed.
"""
