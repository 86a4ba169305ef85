"""The PostgreSQL schema, as numbered migrations.

``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``; ``schema_migrations`` records each
version applied (and when). Never edit a released entry; append a new one. All pending migrations run
in one transaction under an advisory lock, so two instances starting at once migrate once, and a
failure leaves the previous version intact (PostgreSQL's DDL is transactional).

What the database itself guarantees, whatever client writes to it:

- at most one pending intent per payment: the unique partial index ``intents_one_pending``;
- an intent's identity (operation, payment, amount, key, who first asked, when) never changes; a
  confirmed outcome (succeeded, reconciled) is final; a ``failed`` one turns only into a confirmed
  outcome (the API said the money moved after all) or back into pending when the same operation is
  begun again with its key (the API asks for some refusals to be retried with the same key); attempts
  are counted only up and only while pending; intents are never deleted (``intents_guard``);
- every request of an intent (its first, and each reopening) and every outcome has its audit line,
  written by the trigger ``intents_audit`` in the same transaction; a line that names an intent can
  come from nowhere else;
- the audit log is append-only (``audit_append_only``, also against TRUNCATE), and each line carries
  the database's own clock (``recorded_at``) and role (``written_by``), which a client cannot set.

The trigger functions keep the ``search_path`` they were created with, so a client that sets its own
cannot send their writes to tables of its making.
"""

from __future__ import annotations

SCHEMA_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""

# Any fixed number: the key of the advisory lock held while migrating.
MIGRATION_LOCK_KEY = 7_160_001

MIGRATIONS: tuple[str, ...] = (
    # 1: the register, the journal of money-moving intents, the audit log, small settings; the rules
    # above as constraints and triggers.
    """
    CREATE TABLE payments (
        msn           text COLLATE "C" NOT NULL,
        reference     text COLLATE "C" NOT NULL,
        description   text NOT NULL DEFAULT '',
        created_at    timestamptz,
        added_at      timestamptz NOT NULL,
        source        text NOT NULL DEFAULT '',
        redirect_url  text,
        payment       jsonb,
        events        jsonb,
        fetched_at    timestamptz,
        fetch_error   text NOT NULL DEFAULT '',
        PRIMARY KEY (msn, reference)
    );
    -- The window lists one serial number's payments newest first.
    CREATE INDEX payments_newest ON payments (msn, (coalesce(created_at, added_at)) DESC, reference);

    CREATE TABLE intents (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        operation        text NOT NULL CHECK (operation IN ('cancel', 'capture', 'refund')),
        profile          text NOT NULL,
        msn              text COLLATE "C" NOT NULL,
        reference        text COLLATE "C" NOT NULL,
        amount           bigint,
        currency         text,
        idempotency_key  text COLLATE "C" NOT NULL UNIQUE,
        created_at       timestamptz NOT NULL,
        os_user          text NOT NULL,
        -- The latest request: the first, or the one that reopened a refused intent.
        requested_at     timestamptz,
        requested_by     text,
        request_detail   text NOT NULL DEFAULT '',
        status           text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'succeeded', 'failed', 'reconciled')),
        outcome          text NOT NULL DEFAULT '',
        finished_at      timestamptz,
        finished_by      text,
        attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        CHECK ((amount IS NULL) = (currency IS NULL))
    );
    -- Two money-moving calls on one payment without a known outcome is how money moves twice.
    CREATE UNIQUE INDEX intents_one_pending ON intents (msn, reference) WHERE status = 'pending';

    CREATE TABLE audit (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at               timestamptz NOT NULL,
        os_user          text NOT NULL,
        profile          text NOT NULL,
        msn              text COLLATE "C" NOT NULL,
        action           text NOT NULL,
        reference        text COLLATE "C" NOT NULL DEFAULT '',
        amount           bigint,
        currency         text,
        result           text NOT NULL,
        detail           text NOT NULL DEFAULT '',
        idempotency_key  text NOT NULL DEFAULT '',
        intent_id        bigint REFERENCES intents (id),
        recorded_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        written_by       text NOT NULL DEFAULT current_user,
        CHECK ((amount IS NULL) = (currency IS NULL))
    );
    CREATE INDEX audit_by_intent ON audit (intent_id) WHERE intent_id IS NOT NULL;

    CREATE TABLE meta (
        key    text PRIMARY KEY,
        value  text NOT NULL
    );

    CREATE FUNCTION audit_stamp() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    BEGIN
        -- Depth 1 is a client's INSERT; the journal's lines come from intents_audit (depth 2).
        IF NEW.intent_id IS NOT NULL AND pg_trigger_depth() < 2 THEN
            RAISE EXCEPTION 'audit lines of an intent are written by the journal only'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        NEW.recorded_at := clock_timestamp();
        NEW.written_by := current_user;
        RETURN NEW;
    END $$;
    CREATE TRIGGER audit_stamp BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_stamp();

    CREATE FUNCTION refuse_rewrite() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    BEGIN
        RAISE EXCEPTION '% on % refused: its history is kept', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END $$;
    CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
    CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();

    CREATE FUNCTION intents_guard() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'intents are never deleted (intent %)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF (NEW.operation, NEW.profile, NEW.msn, NEW.reference, NEW.amount, NEW.currency,
            NEW.idempotency_key, NEW.created_at, NEW.os_user)
           IS DISTINCT FROM
           (OLD.operation, OLD.profile, OLD.msn, OLD.reference, OLD.amount, OLD.currency,
            OLD.idempotency_key, OLD.created_at, OLD.os_user) THEN
            RAISE EXCEPTION 'what intent % asked for cannot change', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        IF (NEW.requested_at, NEW.requested_by, NEW.request_detail)
           IS DISTINCT FROM (OLD.requested_at, OLD.requested_by, OLD.request_detail)
           AND NOT (OLD.status = 'failed' AND NEW.status = 'pending') THEN
            RAISE EXCEPTION 'intent % is asked for again only by reopening it', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
               OLD.status = 'pending'
            OR (OLD.status = 'failed' AND NEW.status IN ('succeeded', 'reconciled', 'pending'))) THEN
            RAISE EXCEPTION 'intent % cannot go from % to %', OLD.id, OLD.status, NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.attempts <> OLD.attempts AND (OLD.status <> 'pending' OR NEW.attempts < OLD.attempts) THEN
            RAISE EXCEPTION 'attempts of intent % are counted only up, and only while pending', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER intents_guard BEFORE UPDATE OR DELETE ON intents
        FOR EACH ROW EXECUTE FUNCTION intents_guard();
    CREATE TRIGGER intents_no_truncate BEFORE TRUNCATE ON intents
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();

    CREATE FUNCTION intents_audit() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, result,
                               detail, idempotency_key, intent_id)
            VALUES (coalesce(NEW.requested_at, NEW.created_at), coalesce(NEW.requested_by, NEW.os_user),
                    NEW.profile, NEW.msn, NEW.operation, NEW.reference, NEW.amount, NEW.currency,
                    'requested', NEW.request_detail, NEW.idempotency_key, NEW.id);
        ELSIF NEW.status = 'pending' AND OLD.status <> 'pending' THEN
            INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, result,
                               detail, idempotency_key, intent_id)
            VALUES (coalesce(NEW.requested_at, clock_timestamp()), coalesce(NEW.requested_by, ''),
                    NEW.profile, NEW.msn, NEW.operation, NEW.reference, NEW.amount, NEW.currency,
                    'requested', NEW.request_detail, NEW.idempotency_key, NEW.id);
        ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
            INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, result,
                               detail, idempotency_key, intent_id)
            VALUES (coalesce(NEW.finished_at, clock_timestamp()), coalesce(NEW.finished_by, ''),
                    NEW.profile, NEW.msn, NEW.operation, NEW.reference, NEW.amount, NEW.currency,
                    NEW.status, NEW.outcome, NEW.idempotency_key, NEW.id);
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER intents_audit AFTER INSERT OR UPDATE ON intents
        FOR EACH ROW EXECUTE FUNCTION intents_audit();
    """,
    # 2: the newest event's time beside the saved event log, so the list (its "Updated" column) is
    # loaded without reading any log; filled from the logs saved before. A time that cannot be read
    # leaves it unknown for that payment (as a damaged log does in the SQLite register) instead of
    # failing the migration: one statement for all, and row by row only if that one stumbles.
    """
    ALTER TABLE payments ADD COLUMN last_event_at timestamptz;
    DO $$
    DECLARE
        item record;
    BEGIN
        BEGIN
            UPDATE payments SET last_event_at = (
                SELECT max((e ->> 'timestamp')::timestamptz) FROM jsonb_array_elements(events) AS e
                WHERE jsonb_typeof(e -> 'timestamp') = 'string')
            WHERE jsonb_typeof(events) = 'array';
        EXCEPTION WHEN data_exception THEN
            FOR item IN SELECT msn, reference FROM payments WHERE jsonb_typeof(events) = 'array' LOOP
                BEGIN
                    UPDATE payments SET last_event_at = (
                        SELECT max((e ->> 'timestamp')::timestamptz)
                        FROM jsonb_array_elements(events) AS e
                        WHERE jsonb_typeof(e -> 'timestamp') = 'string')
                    WHERE msn = item.msn AND reference = item.reference;
                EXCEPTION WHEN data_exception THEN
                    NULL;
                END;
            END LOOP;
        END;
    END $$;
    """,
    # 3: team mode's agents: password hashes (never the password), sessions by the hash of their token
    # (a stolen database does not give a usable token), and login attempts, kept here so that every
    # instance counts the same ones.
    """
    CREATE TABLE agents (
        name text COLLATE "C" PRIMARY KEY CHECK (name <> '' AND length(name) <= 64),
        password_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('viewer', 'agent', 'supervisor', 'admin')),
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE TABLE agent_sessions (
        token_hash text COLLATE "C" PRIMARY KEY,
        agent text COLLATE "C" NOT NULL REFERENCES agents (name),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
    );
    CREATE INDEX agent_sessions_of_agent ON agent_sessions (agent);
    CREATE TABLE login_attempts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        agent text COLLATE "C" NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        succeeded boolean NOT NULL DEFAULT false
    );
    CREATE INDEX login_attempts_recent ON login_attempts (agent, at);
    """,
    # 4: the newest intent of each payment (the team's list shows who last did what) found by index.
    """
    CREATE INDEX intents_by_payment ON intents (msn, reference, id);
    """,
    # 5: four-eyes approval. A request holds money moves (a refund, or a batch) above a merchant's
    # threshold until a second person decides. Its items carry the Idempotency-Keys fixed when it was
    # asked, so however often and by whichever instance an approved request is sent, each item moves
    # money at most once (and the journal's intent of an item is the one with its key). What a request
    # asked for never changes; it goes pending -> approved -> sent, or pending -> rejected | expired, and
    # nothing else; whoever approves is not whoever asked (``approval_requests_four_eyes``).
    """
    CREATE TABLE approval_requests (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        msn           text COLLATE "C" NOT NULL,
        operation     text NOT NULL CHECK (operation IN ('cancel', 'capture', 'refund')),
        total         bigint,
        currency      text,
        reason        text NOT NULL CHECK (reason <> ''),
        again         boolean NOT NULL DEFAULT false,
        requested_by  text NOT NULL,
        requested_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        expires_at    timestamptz NOT NULL,
        status        text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'approved', 'sent', 'rejected', 'expired')),
        decided_by    text,
        decided_at    timestamptz,
        note          text NOT NULL DEFAULT '',
        sent_at       timestamptz,
        CHECK ((total IS NULL) = (currency IS NULL)),
        CHECK (status IN ('pending', 'expired') OR decided_by IS NOT NULL),
        CONSTRAINT approval_requests_four_eyes
            CHECK (status NOT IN ('approved', 'sent') OR decided_by <> requested_by)
    );
    CREATE INDEX approval_requests_open ON approval_requests (expires_at) WHERE status = 'pending';

    CREATE TABLE approval_items (
        request_id       bigint NOT NULL REFERENCES approval_requests (id),
        position         integer NOT NULL,
        reference        text COLLATE "C" NOT NULL,
        amount           bigint,
        currency         text,
        idempotency_key  text COLLATE "C" NOT NULL UNIQUE,
        PRIMARY KEY (request_id, position),
        CHECK ((amount IS NULL) = (currency IS NULL))
    );

    CREATE FUNCTION approval_guard() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'approval requests are never deleted (request %)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF (NEW.msn, NEW.operation, NEW.total, NEW.currency, NEW.reason, NEW.again, NEW.requested_by,
            NEW.requested_at, NEW.expires_at)
           IS DISTINCT FROM
           (OLD.msn, OLD.operation, OLD.total, OLD.currency, OLD.reason, OLD.again, OLD.requested_by,
            OLD.requested_at, OLD.expires_at) THEN
            RAISE EXCEPTION 'what approval request % asked for cannot change', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
               (OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected', 'expired'))
            OR (OLD.status = 'approved' AND NEW.status = 'sent')) THEN
            RAISE EXCEPTION 'approval request % cannot go from % to %', OLD.id, OLD.status, NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        IF (NEW.decided_by, NEW.decided_at, NEW.note)
           IS DISTINCT FROM (OLD.decided_by, OLD.decided_at, OLD.note) AND OLD.status <> 'pending' THEN
            RAISE EXCEPTION 'approval request % was decided already', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER approval_guard BEFORE UPDATE OR DELETE ON approval_requests
        FOR EACH ROW EXECUTE FUNCTION approval_guard();
    CREATE TRIGGER approval_requests_no_truncate BEFORE TRUNCATE ON approval_requests
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
    CREATE TRIGGER approval_items_fixed BEFORE UPDATE OR DELETE ON approval_items
        FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
    CREATE TRIGGER approval_items_no_truncate BEFORE TRUNCATE ON approval_items
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
    """,
    # 6: live updates. Every change of a payment (its row in the register) and every start and end of
    # a money move is noted in ``live_events`` and announced with ``pg_notify`` in the same transaction,
    # on the channel ``epay_live:<schema>``, so every instance of the team service hears it the moment
    # it commits and can tell its desktops. The note says who (an agent's name) and why (the operation,
    # or "refresh"/"webhook", set by the writer with ``set_config('epay.live_action', ..., true)``);
    # ``live_events`` lets a desktop that reconnects be told what it missed.
    """
    -- When the team's refresh last took the payment up, whatever came of it (a failed read keeps the
    -- old snapshot and its time): the refresh then goes on to the others.
    ALTER TABLE payments ADD COLUMN refresh_tried_at timestamptz;

    CREATE TABLE live_events (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        msn        text COLLATE "C" NOT NULL,
        reference  text COLLATE "C" NOT NULL,
        kind       text NOT NULL CHECK (kind IN ('changed', 'working', 'done')),
        agent      text,
        action     text,
        at         timestamptz NOT NULL DEFAULT clock_timestamp(),
        xact       xid8 NOT NULL DEFAULT pg_current_xact_id()
    );
    CREATE INDEX live_events_of_merchant ON live_events (msn, id);
    -- One note per payment, kind, agent and action in a transaction (an insert and two updates of one
    -- row are one change to tell).
    CREATE UNIQUE INDEX live_events_once ON live_events
        (xact, msn, reference, kind, coalesce(agent, ''), coalesce(action, ''));

    CREATE FUNCTION live_note(p_msn text, p_reference text, p_kind text, p_agent text, p_action text)
        RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    DECLARE
        item live_events;
        payload text;
    BEGIN
        INSERT INTO live_events (msn, reference, kind, agent, action)
        VALUES (p_msn, p_reference, p_kind, nullif(p_agent, ''), nullif(p_action, ''))
        ON CONFLICT DO NOTHING
        RETURNING * INTO item;
        IF item.id IS NULL THEN
            RETURN;  -- told already in this transaction
        END IF;
        payload := json_build_object(
            'id', item.id, 'msn', item.msn, 'reference', item.reference, 'kind', item.kind,
            'agent', item.agent, 'action', item.action,
            'at', to_char(item.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text;
        -- A notification carries at most 8000 bytes; a longer one is announced by its id alone and
        -- the listeners read the rest from live_events.
        IF octet_length(payload) > 7000 THEN
            payload := json_build_object('id', item.id)::text;
        END IF;
        PERFORM pg_notify('epay_live:' || current_schema(), payload);
    END $$;

    CREATE FUNCTION payments_live() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    DECLARE
        row_msn text;
        row_reference text;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            row_msn := OLD.msn;
            row_reference := OLD.reference;
        ELSE
            row_msn := NEW.msn;
            row_reference := NEW.reference;
        END IF;
        PERFORM live_note(row_msn, row_reference, 'changed', current_setting('epay.live_agent', true),
                          current_setting('epay.live_action', true));
        RETURN NULL;
    END $$;
    CREATE TRIGGER payments_live AFTER INSERT OR DELETE ON payments
        FOR EACH ROW EXECUTE FUNCTION payments_live();
    -- A refresh that finds the payment as it was saves it again: that is no change to tell anyone; nor
    -- is a failed read that fails again (its message differs only in the API's trace id).
    CREATE TRIGGER payments_live_update AFTER UPDATE ON payments FOR EACH ROW
        WHEN (OLD.payment IS DISTINCT FROM NEW.payment OR OLD.events IS DISTINCT FROM NEW.events
              OR (OLD.fetch_error = '') IS DISTINCT FROM (NEW.fetch_error = '')
              OR OLD.description IS DISTINCT FROM NEW.description)
        EXECUTE FUNCTION payments_live();

    CREATE FUNCTION intents_live() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    BEGIN
        IF NEW.status = 'pending' AND (TG_OP = 'INSERT' OR OLD.status <> 'pending') THEN
            PERFORM live_note(NEW.msn, NEW.reference, 'working', coalesce(NEW.requested_by, NEW.os_user),
                              NEW.operation);
        ELSIF TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status THEN
            PERFORM live_note(NEW.msn, NEW.reference, 'done', coalesce(NEW.requested_by, NEW.os_user),
                              NEW.operation);
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER intents_live AFTER INSERT OR UPDATE ON intents
        FOR EACH ROW EXECUTE FUNCTION intents_live();
    """,
    # 7: every approval request ends. An approved request goes on to ``sent`` (every payment moved),
    # ``failed`` (one or more could not be started or were refused: ``failure`` says which and why) or,
    # when its time ran out before any of it was started, ``expired``; each once (``finished_at``). The
    # payments of a request that is not approved are never begun: the database refuses an intent with
    # an item's key unless its request is approved at that moment (the row is locked while it checks,
    # so an expiry and a start cannot cross).
    """
    ALTER TABLE approval_requests ADD COLUMN failure text NOT NULL DEFAULT '';
    ALTER TABLE approval_requests ADD COLUMN finished_at timestamptz;
    ALTER TABLE approval_requests DROP CONSTRAINT approval_requests_status_check;
    ALTER TABLE approval_requests ADD CONSTRAINT approval_requests_status_check
        CHECK (status IN ('pending', 'approved', 'sent', 'rejected', 'expired', 'failed'));
    ALTER TABLE approval_requests ADD CONSTRAINT approval_requests_failure_said
        CHECK ((status = 'failed') = (failure <> ''));
    CREATE INDEX approval_requests_approved ON approval_requests (expires_at) WHERE status = 'approved';

    CREATE OR REPLACE FUNCTION approval_guard() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'approval requests are never deleted (request %)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF (NEW.msn, NEW.operation, NEW.total, NEW.currency, NEW.reason, NEW.again, NEW.requested_by,
            NEW.requested_at, NEW.expires_at)
           IS DISTINCT FROM
           (OLD.msn, OLD.operation, OLD.total, OLD.currency, OLD.reason, OLD.again, OLD.requested_by,
            OLD.requested_at, OLD.expires_at) THEN
            RAISE EXCEPTION 'what approval request % asked for cannot change', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
               (OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected', 'expired'))
            OR (OLD.status = 'approved' AND NEW.status IN ('sent', 'failed', 'expired'))) THEN
            RAISE EXCEPTION 'approval request % cannot go from % to %', OLD.id, OLD.status, NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        IF (NEW.decided_by, NEW.decided_at, NEW.note)
           IS DISTINCT FROM (OLD.decided_by, OLD.decided_at, OLD.note) AND OLD.status <> 'pending' THEN
            RAISE EXCEPTION 'approval request % was decided already', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        IF (NEW.failure, NEW.finished_at, NEW.sent_at)
           IS DISTINCT FROM (OLD.failure, OLD.finished_at, OLD.sent_at) AND OLD.status <> 'approved' THEN
            RAISE EXCEPTION 'approval request % has ended already', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$;

    CREATE FUNCTION approval_items_only_when_approved() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    DECLARE
        held approval_requests;
    BEGIN
        SELECT r.* INTO held FROM approval_items i JOIN approval_requests r ON r.id = i.request_id
            WHERE i.idempotency_key = NEW.idempotency_key FOR SHARE OF r;
        IF FOUND AND held.status <> 'approved' THEN
            RAISE EXCEPTION 'approval request % is %: its payments are not sent', held.id, held.status
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER intents_of_approvals BEFORE INSERT ON intents
        FOR EACH ROW EXECUTE FUNCTION approval_items_only_when_approved();
    CREATE TRIGGER intents_of_approvals_reopened BEFORE UPDATE ON intents
        FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending')
        EXECUTE FUNCTION approval_items_only_when_approved();
    """,
    # 8: the desktops read a merchant's audit newest first, and one payment's history, page by page.
    """
    CREATE INDEX audit_of_merchant ON audit (msn, id);
    CREATE INDEX audit_of_payment ON audit (msn, reference, id);
    """,
    # 9: an admin's approval threshold for a merchant, shared by every instance; a row overrides the
    # configuration file's (a NULL value: nothing is held for that merchant). Who set it, and when.
    """
    CREATE TABLE merchant_limits (
        msn               text PRIMARY KEY,
        approval_value    bigint CHECK (approval_value IS NULL OR approval_value >= 0),
        approval_currency text,
        changed_by        text NOT NULL,
        changed_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
        CHECK ((approval_value IS NULL) = (approval_currency IS NULL))
    );
    """,
    # 10: a cancel's audit lines say what it cancels. A cancel asks for no amount (it releases whatever
    # is left), so its intent has none; what was left by the register's snapshot when it was asked is
    # set by the journal's writer in the same transaction (``epay.cancel_releases``: minor units and
    # currency, as "10000 NOK"), written on the "requested" line, and its outcome's line repeats it.
    # Lines written before this version keep no amount.
    """
    CREATE OR REPLACE FUNCTION intents_audit() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    DECLARE
        line_amount bigint := NEW.amount;
        line_currency text := NEW.currency;
        released text;
    BEGIN
        IF NEW.operation = 'cancel' AND NEW.amount IS NULL THEN
            IF TG_OP = 'INSERT' OR (NEW.status = 'pending' AND OLD.status <> 'pending') THEN
                released := current_setting('epay.cancel_releases', true);
                IF released ~ '^[0-9]{1,18} [A-Z]{3}$' THEN
                    line_amount := split_part(released, ' ', 1)::bigint;
                    line_currency := split_part(released, ' ', 2);
                END IF;
            ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
                SELECT a.amount, a.currency INTO line_amount, line_currency FROM audit a
                    WHERE a.intent_id = NEW.id AND a.result = 'requested' ORDER BY a.id DESC LIMIT 1;
            END IF;
        END IF;
        IF TG_OP = 'INSERT' THEN
            INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, result,
                               detail, idempotency_key, intent_id)
            VALUES (coalesce(NEW.requested_at, NEW.created_at), coalesce(NEW.requested_by, NEW.os_user),
                    NEW.profile, NEW.msn, NEW.operation, NEW.reference, line_amount, line_currency,
                    'requested', NEW.request_detail, NEW.idempotency_key, NEW.id);
        ELSIF NEW.status = 'pending' AND OLD.status <> 'pending' THEN
            INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, result,
                               detail, idempotency_key, intent_id)
            VALUES (coalesce(NEW.requested_at, clock_timestamp()), coalesce(NEW.requested_by, ''),
                    NEW.profile, NEW.msn, NEW.operation, NEW.reference, line_amount, line_currency,
                    'requested', NEW.request_detail, NEW.idempotency_key, NEW.id);
        ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
            INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, result,
                               detail, idempotency_key, intent_id)
            VALUES (coalesce(NEW.finished_at, clock_timestamp()), coalesce(NEW.finished_by, ''),
                    NEW.profile, NEW.msn, NEW.operation, NEW.reference, line_amount, line_currency,
                    NEW.status, NEW.outcome, NEW.idempotency_key, NEW.id);
        END IF;
        RETURN NULL;
    END $$;
    """,
    # 11: whoever asked for a held move is told how their request ended. When an approval request ends
    # (sent, failed, expired or rejected) a live note of kind 'approval' names it (``approval``: its id;
    # ``agent``: who asked; ``action``: how it ended; ``reference``: its first payment), announced like
    # every note; the service tells it only to the streams of whoever asked.
    """
    ALTER TABLE live_events ADD COLUMN approval bigint;
    ALTER TABLE live_events DROP CONSTRAINT live_events_kind_check;
    ALTER TABLE live_events ADD CONSTRAINT live_events_kind_check
        CHECK (kind IN ('changed', 'working', 'done', 'approval'));
    DROP INDEX live_events_once;
    CREATE UNIQUE INDEX live_events_once ON live_events
        (xact, msn, reference, kind, coalesce(agent, ''), coalesce(action, ''), coalesce(approval, 0));

    CREATE FUNCTION approval_live() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    DECLARE
        item live_events;
        payload text;
    BEGIN
        INSERT INTO live_events (msn, reference, kind, agent, action, approval)
        VALUES (NEW.msn,
                coalesce((SELECT i.reference FROM approval_items i WHERE i.request_id = NEW.id
                          ORDER BY i.position LIMIT 1), ''),
                'approval', NEW.requested_by, NEW.status, NEW.id)
        ON CONFLICT DO NOTHING
        RETURNING * INTO item;
        IF item.id IS NULL THEN
            RETURN NULL;
        END IF;
        payload := json_build_object(
            'id', item.id, 'msn', item.msn, 'reference', item.reference, 'kind', item.kind,
            'agent', item.agent, 'action', item.action, 'approval', item.approval,
            'at', to_char(item.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text;
        IF octet_length(payload) > 7000 THEN
            payload := json_build_object('id', item.id)::text;
        END IF;
        PERFORM pg_notify('epay_live:' || current_schema(), payload);
        RETURN NULL;
    END $$;
    CREATE TRIGGER approval_requests_live AFTER UPDATE ON approval_requests FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status
              AND NEW.status IN ('sent', 'failed', 'expired', 'rejected'))
        EXECUTE FUNCTION approval_live();
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

# What the team service's own role may do: read and write the register and settings, add and finish
# intents, add audit lines; never delete an intent, change or delete an audit line, or change the schema
# (only the owner, which runs the migrations, can drop a trigger). ``{role}`` is filled in as an
# identifier by ``grant_service_role``.
SERVICE_GRANTS: tuple[str, ...] = (
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON payments, meta TO {role}",
    "GRANT SELECT, INSERT, UPDATE ON intents TO {role}",
    "GRANT SELECT, INSERT ON audit TO {role}",
    "GRANT SELECT ON schema_migrations TO {role}",
    "GRANT SELECT, INSERT, UPDATE ON agents, agent_sessions, login_attempts TO {role}",
    "GRANT SELECT, INSERT, UPDATE ON approval_requests TO {role}",
    "GRANT SELECT, INSERT ON approval_items TO {role}",
    # Live updates: the triggers note changes; the polling instance prunes old notes.
    "GRANT SELECT, INSERT, DELETE ON live_events TO {role}",
    "GRANT SELECT, INSERT, UPDATE ON merchant_limits TO {role}",
)
