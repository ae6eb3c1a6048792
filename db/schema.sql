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
