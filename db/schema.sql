-- PredictionApi schema: the single source of truth for the database.
--
-- The service applies this file at start-up inside one transaction that holds a
-- transaction-scoped advisory lock, so several instances starting at once apply it
-- one after the other. Every statement must therefore be idempotent: create with
-- IF NOT EXISTS, and evolve with ALTER TABLE ... ADD COLUMN IF NOT EXISTS.

-- One row per uploaded image. The bytes live either here (base64, storage_kind
-- 'database') or in an object store (storage_kind 'object', object_key set).
CREATE TABLE IF NOT EXISTS inputs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    filename      text        NOT NULL,
    content_type  text        NOT NULL,
    data          text        NULL,
    sha256        bytea       NOT NULL CHECK (octet_length(sha256) = 32),
    byte_size     integer     NOT NULL CHECK (byte_size > 0),
    width         integer     NOT NULL CHECK (width > 0),
    height        integer     NOT NULL CHECK (height > 0),
    storage_kind  text        NOT NULL DEFAULT 'database' CHECK (storage_kind IN ('database', 'object')),
    object_key    text        NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- The payload is exactly where storage_kind says it is.
    CONSTRAINT inputs_payload_location CHECK (
        (storage_kind = 'database' AND data IS NOT NULL AND object_key IS NULL) OR
        (storage_kind = 'object' AND data IS NULL AND object_key IS NOT NULL))
);

-- One row per model run on an input.
CREATE TABLE IF NOT EXISTS predictions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    input_id       bigint      NOT NULL REFERENCES inputs (id),
    model_name     text        NOT NULL,
    model_version  text        NOT NULL,
    probabilities  jsonb       NOT NULL CHECK (jsonb_typeof(probabilities) = 'array'),
    likely_class   integer     NOT NULL CHECK (likely_class >= 0),
    confidence     real        NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    created_at     timestamptz NOT NULL DEFAULT now(),
    true_label     text        NULL,
    note           text        NULL,
    labeled_at     timestamptz NULL
);

-- Newest-first keyset pagination: ORDER BY created_at DESC, id DESC.
CREATE INDEX IF NOT EXISTS predictions_newest ON predictions (created_at DESC, id DESC);
-- The same order within one model, and within one predicted class of one model.
CREATE INDEX IF NOT EXISTS predictions_model_newest ON predictions (model_name, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS predictions_model_class_newest
    ON predictions (model_name, likely_class, created_at DESC, id DESC);
-- Filtering by predicted class across models.
CREATE INDEX IF NOT EXISTS predictions_class_newest ON predictions (likely_class, created_at DESC, id DESC);
-- Deleting an input needs to find its predictions without a sequential scan.
CREATE INDEX IF NOT EXISTS predictions_input_id ON predictions (input_id);

-- Object storage, deletes, batch labelling.
-- Content-addressed objects are shared by every input with the same bytes; finding the other
-- references of a key (before deleting it) and re-labelling by content hash are index lookups.
CREATE INDEX IF NOT EXISTS inputs_object_key ON inputs (object_key) WHERE object_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS inputs_sha256 ON inputs (sha256);

-- Outbox of objects to delete from the object store. Rows are added in the transaction that
-- deletes the last input referencing the key, and removed only once the store confirmed the
-- delete (or the key turned out to be referenced again), so a failed delete is retried.
CREATE TABLE IF NOT EXISTS object_deletions (
    object_key       text        PRIMARY KEY,
    enqueued_at      timestamptz NOT NULL DEFAULT now(),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text        NULL
);
CREATE INDEX IF NOT EXISTS object_deletions_due ON object_deletions (next_attempt_at);

-- Stored answers of POST /predictions/batch by Idempotency-Key: a retry gets the first answer
-- instead of storing the batch again. request_sha256 detects a key reused for other files.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key             text        PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 400),
    request_sha256  bytea       NOT NULL CHECK (octet_length(request_sha256) = 32),
    response        jsonb       NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);
-- Once API keys are on, a key is stored behind the name of the API key that sent it (IdempotencyKeys.Read), so that
-- callers' keys never meet: up to 100 + 1 + 255 characters. Databases made before that allowed 255.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'idempotency_keys'::regclass AND conname = 'idempotency_keys_key_check'
               AND pg_get_constraintdef(oid) LIKE '%255%') THEN
        ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_key_check,
            ADD CONSTRAINT idempotency_keys_key_check CHECK (length(key) BETWEEN 1 AND 400);
    END IF;
END
$$;

-- Listing by recorded true label (feedback), newest first. Partial: only labelled rows are indexed,
-- so the indexes stay small and unlabelled predictions cost nothing to insert. A query with
-- true_label = $1 implies true_label IS NOT NULL, so the planner can use them.
CREATE INDEX IF NOT EXISTS predictions_label_newest
    ON predictions (true_label, created_at DESC, id DESC) WHERE true_label IS NOT NULL;
CREATE INDEX IF NOT EXISTS predictions_model_label_newest
    ON predictions (model_name, true_label, created_at DESC, id DESC) WHERE true_label IS NOT NULL;
-- A narrow confidence band (min_confidence=0.999, or max_confidence=0.05 where nearly every prediction
-- is confident) matches too few rows to find by walking a newest-first index; this finds them directly.
CREATE INDEX IF NOT EXISTS predictions_confidence ON predictions (confidence);

-- Shadow models: a prediction made by a model shadowing the one that answered the request, stored as another
-- prediction of the same input after the answer was sent. The statistics count
-- answered predictions only (a shadow is judged by GET /models/compare), so they are declared before the counts.
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS shadow boolean NOT NULL DEFAULT false;

-- Statistics (GET /predictions/stats) from maintained counts instead of a scan of every prediction:
-- per model, hour or day (UTC), predicted class, confidence bin and true label, the number of
-- predictions and the sum of their confidences. Statement-level triggers on predictions keep it exact
-- in the transaction of every insert, feedback update and delete, whoever runs it. Groups whose
-- predictions were all deleted stay, with count 0; the statistics skip them.
-- The bin is GET /predictions/stats's: tenths in real arithmetic, so 0.7 falls in 0.7-0.8 and 1.0 in
-- 0.9-1.0; confidences are summed as float8, as the statistics did from the rows.
DO $$
BEGIN
    IF to_regclass('prediction_counts') IS NULL THEN
        CREATE TABLE prediction_counts (
            model_name      text        NOT NULL,
            span            text        NOT NULL CHECK (span IN ('hour', 'day')),
            bucket_start    timestamptz NOT NULL,
            likely_class    integer     NOT NULL,
            bin             integer     NOT NULL,
            true_label      text        NULL,
            count           bigint      NOT NULL,
            confidence_sum  float8      NOT NULL,
            CONSTRAINT prediction_counts_key UNIQUE NULLS NOT DISTINCT (model_name, span, bucket_start, likely_class, bin, true_label)
        );
        -- Predictions stored before the counts existed: counted once, here. The lock keeps writers
        -- out until the triggers below exist and this transaction commits, so no row is missed or counted twice.
        LOCK TABLE predictions IN SHARE ROW EXCLUSIVE MODE;
        INSERT INTO prediction_counts
        SELECT model_name, span, date_trunc(span, created_at, 'UTC'), likely_class,
               least(floor(confidence * 10::real), 9)::int, true_label, count(*), sum(confidence::float8)
        FROM predictions CROSS JOIN (VALUES ('hour'), ('day')) AS s (span)
        WHERE NOT shadow
        GROUP BY 1, 2, 3, 4, 5, 6;
    END IF;
END
$$;

-- Adds the rows a statement inserted and subtracts those it deleted (an update does both). Groups are
-- upserted in key order, so two transactions touching the same groups lock them in the same order and
-- wait for each other instead of deadlocking. A group that falls to count 0 restarts its sum at 0.
CREATE OR REPLACE FUNCTION prediction_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO prediction_counts AS c
        SELECT model_name, span, date_trunc(span, created_at, 'UTC'), likely_class,
               least(floor(confidence * 10::real), 9)::int, true_label, count(*), sum(confidence::float8)
        FROM new_rows CROSS JOIN (VALUES ('hour'), ('day')) AS s (span)
        WHERE NOT shadow
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT prediction_counts_key DO UPDATE
        SET count = c.count + EXCLUDED.count, confidence_sum = c.confidence_sum + EXCLUDED.confidence_sum;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO prediction_counts AS c
        SELECT model_name, span, date_trunc(span, created_at, 'UTC'), likely_class,
               least(floor(confidence * 10::real), 9)::int, true_label, -count(*), -sum(confidence::float8)
        FROM old_rows CROSS JOIN (VALUES ('hour'), ('day')) AS s (span)
        WHERE NOT shadow
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT prediction_counts_key DO UPDATE
        SET count = c.count + EXCLUDED.count,
            confidence_sum = CASE WHEN c.count + EXCLUDED.count = 0 THEN 0 ELSE c.confidence_sum + EXCLUDED.confidence_sum END;
    ELSE
        -- Rows whose counted columns did not change (a note edited) cancel out and touch nothing.
        INSERT INTO prediction_counts AS c
        SELECT model_name, span, date_trunc(span, created_at, 'UTC'), likely_class,
               least(floor(confidence * 10::real), 9)::int, true_label, sum(sign), sum(sign * confidence::float8)
        FROM (SELECT model_name, created_at, likely_class, confidence, true_label, 1 AS sign FROM new_rows WHERE NOT shadow
              UNION ALL
              SELECT model_name, created_at, likely_class, confidence, true_label, -1 AS sign FROM old_rows WHERE NOT shadow) AS d
             CROSS JOIN (VALUES ('hour'), ('day')) AS s (span)
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(sign) <> 0 OR sum(sign * confidence::float8) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT prediction_counts_key DO UPDATE
        SET count = c.count + EXCLUDED.count,
            confidence_sum = CASE WHEN c.count + EXCLUDED.count = 0 THEN 0 ELSE c.confidence_sum + EXCLUDED.confidence_sum END;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER prediction_counts_insert AFTER INSERT ON predictions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION prediction_counts_apply();
CREATE OR REPLACE TRIGGER prediction_counts_update AFTER UPDATE ON predictions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION prediction_counts_apply();
CREATE OR REPLACE TRIGGER prediction_counts_delete AFTER DELETE ON predictions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION prediction_counts_apply();
-- TRUNCATE bypasses the row triggers: empty the counts with it.
CREATE OR REPLACE FUNCTION prediction_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM prediction_counts;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER prediction_counts_truncate AFTER TRUNCATE ON predictions
    FOR EACH STATEMENT EXECUTE FUNCTION prediction_counts_truncate();


-- ==================================================================================================
-- Ground truth belongs to the input (issue 12).
-- inputs.true_label and inputs.labeled_at are the source of truth: a label recorded through any prediction
-- counts for every model's prediction of that input. Each prediction keeps a copy of both, kept equal in the
-- same transaction by the triggers below, so the label indexes (predictions_label_newest, ...), the
-- prediction_counts triggers and the statistics keep working on predictions alone.
-- The note stays with the prediction: it is a reviewer's remark on that model's answer, and notes of two
-- predictions never conflict, so they need no merging.
-- A prediction added later to a labelled input takes its label: PredictionWriter.RecordForInputAsync inserts it
-- with it (locking the input against a concurrent label change), and prediction_pairs_apply copies it for any
-- other insert of a second prediction.
-- Migration (once, when inputs gains the columns): an input takes the label of its most recently labelled
-- prediction (labeled_at, then the highest prediction id; a label without labeled_at is oldest), and then
-- every prediction of the input is given that label, which the prediction_counts triggers count.
-- ==================================================================================================
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'inputs'::regclass AND attname = 'true_label' AND NOT attisdropped) THEN
        -- Writers of an older version (which label predictions only) wait until this commits.
        LOCK TABLE predictions IN SHARE ROW EXCLUSIVE MODE;
        ALTER TABLE inputs ADD COLUMN true_label text NULL, ADD COLUMN labeled_at timestamptz NULL;
        UPDATE inputs i SET true_label = l.true_label, labeled_at = l.labeled_at
        FROM (SELECT DISTINCT ON (input_id) input_id, true_label, labeled_at FROM predictions
              WHERE true_label IS NOT NULL
              ORDER BY input_id, labeled_at DESC NULLS LAST, id DESC) AS l
        WHERE i.id = l.input_id;
        UPDATE predictions p SET true_label = i.true_label, labeled_at = i.labeled_at
        FROM inputs i
        WHERE i.id = p.input_id AND i.true_label IS NOT NULL
          AND (p.true_label, p.labeled_at) IS DISTINCT FROM (i.true_label, i.labeled_at);
    END IF;
END
$$;

-- An input's label changed: its predictions take it.
CREATE OR REPLACE FUNCTION inputs_label_propagate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    -- By index (= ANY of the ids): a join with the transition table could scan every prediction.
    SELECT array_agg(id) INTO ids FROM new_rows;
    -- Checked first: an UPDATE that changes nothing would still run every statement trigger of predictions.
    IF EXISTS (SELECT 1 FROM predictions p JOIN new_rows n ON n.id = p.input_id
               WHERE p.input_id = ANY(ids) AND (p.true_label, p.labeled_at) IS DISTINCT FROM (n.true_label, n.labeled_at)) THEN
        UPDATE predictions p SET true_label = n.true_label, labeled_at = n.labeled_at
        FROM new_rows n
        WHERE p.input_id = ANY(ids) AND p.input_id = n.id AND (p.true_label, p.labeled_at) IS DISTINCT FROM (n.true_label, n.labeled_at);
    END IF;
    RETURN NULL;
END
$$;

-- A prediction's label written directly (an UPDATE of predictions; an insert with a label, below) labels its
-- input, and through it the input's other predictions: whoever writes, the copies stay equal. When one statement
-- gives one input's predictions different labels, the latest labeled_at wins, then the highest prediction id.
-- The propagation above writes exactly the input's values, so it ends here. (Predictions never move to another
-- input; an UPDATE of input_id would keep its old label.)
CREATE OR REPLACE FUNCTION predictions_label_to_input() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
    ids bigint[];
BEGIN
    SELECT array_agg(DISTINCT n.input_id) INTO changed FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.true_label, n.labeled_at) IS DISTINCT FROM (o.true_label, o.labeled_at);
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;

    -- Only inputs whose label differs are locked and written: the propagation above (and a copy made for a new
    -- prediction) writes the input's own values, and must not wait for an input row a label change holds.
    SELECT array_agg(i.id ORDER BY i.id) INTO ids
    FROM inputs i JOIN new_rows n ON n.input_id = i.id
    WHERE i.id = ANY(changed) AND (i.true_label, i.labeled_at) IS DISTINCT FROM (n.true_label, n.labeled_at);
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;

    -- In id order, so two statements relabelling overlapping inputs wait for each other instead of deadlocking.
    PERFORM 1 FROM inputs WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    UPDATE inputs i SET true_label = d.true_label, labeled_at = d.labeled_at
    FROM (SELECT DISTINCT ON (n.input_id) n.input_id, n.true_label, n.labeled_at
          FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE (n.true_label, n.labeled_at) IS DISTINCT FROM (o.true_label, o.labeled_at)
          ORDER BY n.input_id, n.labeled_at DESC NULLS LAST, n.id DESC) AS d
    WHERE i.id = ANY(ids) AND i.id = d.input_id AND (i.true_label, i.labeled_at) IS DISTINCT FROM (d.true_label, d.labeled_at);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER inputs_label_propagate AFTER UPDATE ON inputs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inputs_label_propagate();
CREATE OR REPLACE TRIGGER predictions_label_to_input AFTER UPDATE ON predictions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION predictions_label_to_input();
-- Row level with a WHEN, so the uploads' inserts (never labelled) do not even call the function.
CREATE OR REPLACE FUNCTION predictions_inserted_label_to_input() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE inputs SET true_label = NEW.true_label, labeled_at = NEW.labeled_at
    WHERE id = NEW.input_id AND (true_label, labeled_at) IS DISTINCT FROM (NEW.true_label, NEW.labeled_at);
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER predictions_inserted_label_to_input AFTER INSERT ON predictions
    FOR EACH ROW WHEN (NEW.true_label IS NOT NULL) EXECUTE FUNCTION predictions_inserted_label_to_input();

-- ==================================================================================================
-- Model comparison (GET /models/compare, issue 12).
-- prediction_pairs holds, for every input classified by two or more model versions, one row per pair of
-- versions: the current prediction of each (the newest, by id, when a version classified the input more
-- than once: a re-run replaces the earlier answer), their classes, the input's time and true label. The
-- pair is stored once, in the order of (model_name, model_version) compared byte-wise (COLLATE "C"): the
-- reader swaps the sides when the baseline sorts after the candidate. Statement-level triggers on
-- predictions recompute the pairs of the inputs a statement touched, for inserts, deletes and label or
-- class changes, in the same transaction; an upload of a new input has no other prediction, so its insert
-- costs one index probe. prediction_pair_counts counts the pairs per version pair, hour or day (UTC) of
-- the input's time, both classes and true label, kept exact by the same trigger in the same statement
-- that changes the pairs; groups that fall to 0 are skipped, and retention drops them. Partial hours at the
-- ends of a range are read from prediction_pairs; the disagreements are paged from its partial index, newest
-- input first.
-- ==================================================================================================
DO $$
BEGIN
    IF to_regclass('prediction_pairs') IS NULL THEN
        CREATE TABLE prediction_pairs (
            input_id          bigint      NOT NULL,
            input_created_at  timestamptz NOT NULL,
            true_label        text        NULL,
            a_name            text        NOT NULL,
            a_version         text        NOT NULL,
            a_id              bigint      NOT NULL,
            a_class           integer     NOT NULL,
            b_name            text        NOT NULL,
            b_version         text        NOT NULL,
            b_id              bigint      NOT NULL,
            b_class           integer     NOT NULL,
            PRIMARY KEY (input_id, a_id, b_id)
        );
        CREATE INDEX prediction_pairs_newest ON prediction_pairs (a_name, b_name, input_created_at DESC, input_id DESC);
        CREATE INDEX prediction_pairs_disagree_newest
            ON prediction_pairs (a_name, b_name, input_created_at DESC, input_id DESC, a_id DESC, b_id DESC) WHERE a_class <> b_class;
        -- Pairs of the predictions stored before this table: made once, here, under the lock (as prediction_counts).
        LOCK TABLE predictions IN SHARE ROW EXCLUSIVE MODE;
        INSERT INTO prediction_pairs
        WITH current AS (
            SELECT DISTINCT ON (input_id, model_name, model_version) input_id, model_name, model_version, id, likely_class, true_label
            FROM predictions
            ORDER BY input_id, model_name, model_version, id DESC
        )
        SELECT a.input_id, i.created_at, a.true_label, a.model_name, a.model_version, a.id, a.likely_class,
               b.model_name, b.model_version, b.id, b.likely_class
        FROM current a
        JOIN current b ON b.input_id = a.input_id
         AND (a.model_name COLLATE "C", a.model_version COLLATE "C") < (b.model_name COLLATE "C", b.model_version COLLATE "C")
        JOIN inputs i ON i.id = a.input_id;
    END IF;

    IF to_regclass('prediction_pair_counts') IS NULL THEN
        CREATE TABLE prediction_pair_counts (
            a_name        text        NOT NULL,
            b_name        text        NOT NULL,
            span          text        NOT NULL CHECK (span IN ('hour', 'day')),
            bucket_start  timestamptz NOT NULL,
            a_version     text        NOT NULL,
            b_version     text        NOT NULL,
            a_class       integer     NOT NULL,
            b_class       integer     NOT NULL,
            true_label    text        NULL,
            count         bigint      NOT NULL,
            CONSTRAINT prediction_pair_counts_key
                UNIQUE NULLS NOT DISTINCT (a_name, b_name, span, bucket_start, a_version, b_version, a_class, b_class, true_label)
        );
        LOCK TABLE predictions IN SHARE ROW EXCLUSIVE MODE;
        INSERT INTO prediction_pair_counts
        SELECT a_name, b_name, span, date_trunc(span, input_created_at, 'UTC'), a_version, b_version, a_class, b_class, true_label, count(*)
        FROM prediction_pairs CROSS JOIN (VALUES ('hour'), ('day')) AS s (span)
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
    END IF;
END
$$;

-- Recomputes the pairs of the inputs whose predictions a statement inserted, deleted or changed (model,
-- class, label, input). Only inputs that have, or had, two predictions are touched, so a new input's
-- single prediction finds nothing to do. Writers that add a prediction to an existing input lock the input
-- first (PredictionWriter.RecordForInputAsync), so two such writes see each other's rows here.
CREATE OR REPLACE FUNCTION prediction_pairs_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
    affected bigint[];
    removed prediction_pairs[];
BEGIN
    -- Every lookup below is by input id through an index (= ANY of an array): the transition tables carry no
    -- statistics, and a join with them could make PostgreSQL scan a million predictions for one label.
    IF TG_OP = 'INSERT' THEN
        -- An upload's insert (a new input with its one prediction) stops here, after one index probe per row: this
        -- runs for every group commit, so it is kept to one cheap statement. The probe is a subquery with LIMIT, which
        -- PostgreSQL cannot turn into a join: as a join, a table not yet analyzed (a fresh database filling up) made it
        -- hash every prediction for each insert, and the plan stayed cached in the connection.
        IF NOT EXISTS (SELECT 1 FROM new_rows n
                       WHERE (SELECT p.id FROM predictions p WHERE p.input_id = n.input_id AND p.id <> n.id LIMIT 1) IS NOT NULL) THEN
            RETURN NULL;
        END IF;
        SELECT array_agg(DISTINCT input_id) INTO touched FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT input_id) INTO touched FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT x) INTO touched
        FROM (SELECT unnest(ARRAY[n.input_id, o.input_id]) AS x FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE (n.input_id, n.model_name, n.model_version, n.likely_class, n.true_label)
                    IS DISTINCT FROM (o.input_id, o.model_name, o.model_version, o.likely_class, o.true_label)) AS c;
    END IF;

    -- Inputs with two predictions now, or with pairs before (an input that lost its second prediction).
    SELECT array_agg(DISTINCT input_id) INTO affected
    FROM (SELECT input_id FROM predictions WHERE input_id = ANY(touched) GROUP BY input_id HAVING count(*) > 1
          UNION ALL
          SELECT input_id FROM prediction_pairs WHERE TG_OP <> 'INSERT' AND input_id = ANY(touched)) AS a;

    IF affected IS NULL THEN
        RETURN NULL;
    END IF;


    -- One recomputation of an input at a time: two transactions touching the same input (a label change and another
    -- model's answer, say) would otherwise both delete its pairs and both insert them. Each statement below takes a
    -- new snapshot, so it sees what the previous holder committed. An advisory lock rather than the input's row, which
    -- plain SQL may not have locked; keys in one order. The service's writers lock the input before its predictions
    -- (deletes, retention, label changes, another model's prediction), so none of them takes this while another waits.
    -- 256 keys shared by all inputs: a bulk statement of a million inputs must not fill the lock table.
    PERFORM pg_advisory_xact_lock(1349, k) FROM (SELECT DISTINCT hashint8(x) & 255 AS k FROM unnest(affected) AS x ORDER BY 1) AS keys;

    IF TG_OP = 'INSERT' THEN
        -- A prediction added to an input that already has a label takes it. Writers that lock the input, as
        -- RecordForInputAsync does, insert it with the label already; this covers raw SQL, but without that lock a
        -- label change committing meanwhile is not seen here (locking here instead deadlocked under load).
        UPDATE predictions p SET true_label = i.true_label, labeled_at = i.labeled_at
        FROM new_rows n JOIN inputs i ON i.id = n.input_id
        WHERE p.input_id = ANY(affected) AND i.id = ANY(affected) AND p.id = n.id AND n.true_label IS NULL AND i.true_label IS NOT NULL;
    END IF;

    -- The old pairs out and the new ones in, and their difference counted in one statement that upserts the groups
    -- in key order: two transactions relabelling inputs of the same hour lock the same groups in the same order
    -- and wait for each other instead of deadlocking. Groups whose pairs came back unchanged cancel out untouched.
    -- The pairs take the label from the predictions' copies, not from the input: when a statement labels predictions
    -- directly, this trigger runs before the one that labels the input (triggers run in name order).
    WITH gone AS (DELETE FROM prediction_pairs WHERE input_id = ANY(affected) RETURNING *)
    SELECT array_agg(gone) INTO removed FROM gone;
    WITH current AS (
        SELECT DISTINCT ON (input_id, model_name, model_version) input_id, model_name, model_version, id, likely_class, true_label
        FROM predictions
        WHERE input_id = ANY(affected)
        ORDER BY input_id, model_name, model_version, id DESC
    ),
    added AS (
        INSERT INTO prediction_pairs
        SELECT a.input_id, i.created_at, a.true_label, a.model_name, a.model_version, a.id, a.likely_class,
               b.model_name, b.model_version, b.id, b.likely_class
        FROM current a
        JOIN current b ON b.input_id = a.input_id
         AND (a.model_name COLLATE "C", a.model_version COLLATE "C") < (b.model_name COLLATE "C", b.model_version COLLATE "C")
        JOIN inputs i ON i.id = a.input_id AND i.id = ANY(affected)
        RETURNING *
    )
    INSERT INTO prediction_pair_counts AS c
    SELECT a_name, b_name, span, date_trunc(span, input_created_at, 'UTC'), a_version, b_version, a_class, b_class, true_label, sum(sign)
    FROM (SELECT a_name, b_name, input_created_at, a_version, b_version, a_class, b_class, true_label, 1 AS sign FROM added
          UNION ALL
          SELECT a_name, b_name, input_created_at, a_version, b_version, a_class, b_class, true_label, -1 AS sign
          FROM unnest(coalesce(removed, '{}'))) AS d
         CROSS JOIN (VALUES ('hour'), ('day')) AS s (span)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    HAVING sum(sign) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    ON CONFLICT ON CONSTRAINT prediction_pair_counts_key DO UPDATE SET count = c.count + EXCLUDED.count;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER prediction_pairs_insert AFTER INSERT ON predictions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION prediction_pairs_apply();
CREATE OR REPLACE TRIGGER prediction_pairs_update AFTER UPDATE ON predictions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION prediction_pairs_apply();
CREATE OR REPLACE TRIGGER prediction_pairs_delete AFTER DELETE ON predictions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION prediction_pairs_apply();

-- TRUNCATE predictions bypasses the triggers above: empty the pairs and their counts with it.
CREATE OR REPLACE FUNCTION prediction_pairs_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM prediction_pair_counts;
    TRUNCATE prediction_pairs;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER prediction_pairs_truncate AFTER TRUNCATE ON predictions
    FOR EACH STATEMENT EXECUTE FUNCTION prediction_pairs_truncate();

-- API keys (src/PredictionApi/Auth). Only the SHA-256 of a key is kept: the key itself is shown once,
-- when `keys create` makes it. A name is unique among keys not revoked, so a revoked name can be reused.
-- While this table is empty the service is open (unless Auth:Required); a key ever created, even
-- revoked or expired since, keeps it closed.
CREATE TABLE IF NOT EXISTS api_keys (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    key_sha256           bytea       NOT NULL UNIQUE CHECK (octet_length(key_sha256) = 32),
    scopes               text[]      NOT NULL CHECK (scopes <@ ARRAY['predict', 'read', 'feedback', 'admin'] AND cardinality(scopes) > 0),
    requests_per_minute  integer     NULL CHECK (requests_per_minute > 0),
    created_at           timestamptz NOT NULL DEFAULT now(),
    last_used_at         timestamptz NULL,
    expires_at           timestamptz NULL,
    revoked_at           timestamptz NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
-- The key's name that stored each prediction (null: stored while the service was open, or by a command).
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS created_by text NULL;
-- Listing one key's predictions newest first; partial, so predictions stored in open mode cost nothing.
CREATE INDEX IF NOT EXISTS predictions_created_by_newest
    ON predictions (created_by, created_at DESC, id DESC) WHERE created_by IS NOT NULL;
