-- psql script for bench/scale.sh: one chunk of synthetic predictions, numbers :lo to :hi of :total,
-- spread evenly over the 30 days before :now (oldest first), each with a tiny input row.
-- 10% belong to a second model; confidences lean towards 1 as a trained model's do; 2% carry
-- feedback, nine in ten of it agreeing with the prediction.
WITH i AS (
    INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height, created_at)
    SELECT 'seed.png', 'image/png', 'AA==', sha256(int8send(g)), 1, 1, 1,
           :'now'::timestamptz - interval '30 days' + (g * 30 * 86400.0 / :total) * interval '1 second'
    FROM generate_series(:lo, :hi) AS g
    RETURNING id, created_at),
p AS (
    SELECT id, created_at, floor(random() * 10)::int AS likely_class,
           (1 - 0.6 * power(random(), 4))::real AS confidence, random() AS r
    FROM i)
INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at, true_label, labeled_at)
SELECT id, CASE WHEN id % 10 = 0 THEN 'mnist-canary' ELSE 'mnist' END, '2.0.0', '[0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1]'::jsonb,
       likely_class, confidence, created_at,
       CASE WHEN r < 0.018 THEN likely_class::text WHEN r < 0.02 THEN floor(random() * 10)::text END,
       CASE WHEN r < 0.02 THEN created_at END
FROM p;
