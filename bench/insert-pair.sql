-- pgbench script: the same two rows the service writes for one prediction, in one transaction.
-- :png is the base64 of a 28x28 MNIST PNG, passed with -D png=...
-- Class and confidence vary as real traffic's do, so the statistics' counts are shared as the service shares them.
\set class random(0, 9)
\set permille random(500, 1000)
BEGIN;
WITH input AS (
    INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height)
    VALUES ('00000.png', 'image/png', :png, sha256(decode(:png, 'base64')), length(decode(:png, 'base64')), 28, 28)
    RETURNING id)
INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence)
SELECT id, 'mnist', '2.0.0',
       '[0.0001,0.0001,0.0001,0.0001,0.0001,0.0001,0.0001,0.9991,0.0001,0.0001]'::jsonb, :class, :permille / 1000.0
FROM input;
END;
