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
