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
    key             text        PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256  bytea       NOT NULL CHECK (octet_length(request_sha256) = 32),
    response        jsonb       NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);

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
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT prediction_counts_key DO UPDATE
        SET count = c.count + EXCLUDED.count, confidence_sum = c.confidence_sum + EXCLUDED.confidence_sum;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO prediction_counts AS c
        SELECT model_name, span, date_trunc(span, created_at, 'UTC'), likely_class,
               least(floor(confidence * 10::real), 9)::int, true_label, -count(*), -sum(confidence::float8)
        FROM old_rows CROSS JOIN (VALUES ('hour'), ('day')) AS s (span)
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
        FROM (SELECT model_name, created_at, likely_class, confidence, true_label, 1 AS sign FROM new_rows
              UNION ALL
              SELECT model_name, created_at, likely_class, confidence, true_label, -1 AS sign FROM old_rows) AS d
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
