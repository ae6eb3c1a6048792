-- psql script for bench/compare.sh: inputs :lo to :hi of :total, spread evenly over the 30 days before :now,
-- each classified by mnist 1 and then, in a later statement (as a shadow model's answer is stored), by mnist 2,
-- which agrees nine times in ten. 3% of the inputs then get a true label (mnist 1's class, 85% of the time), through the input, the way PATCH
-- records one: the triggers copy it to both predictions and their pair.
INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height, created_at)
SELECT 'seed.png', 'image/png', 'AA==', sha256(int8send(g)), 1, 1, 1,
       :'now'::timestamptz - interval '30 days' + (g * 30 * 86400.0 / :total) * interval '1 second'
FROM generate_series(:lo, :hi) AS g;

INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at)
SELECT id, 'mnist', '1', '[0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1]'::jsonb, floor(random() * 10)::int,
       (1 - 0.6 * power(random(), 4))::real, created_at
FROM inputs WHERE id BETWEEN :lo AND :hi;

INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at)
SELECT input_id, 'mnist', '2', probabilities, CASE WHEN random() < 0.9 THEN likely_class ELSE floor(random() * 10)::int END,
       (1 - 0.6 * power(random(), 4))::real, created_at + interval '1 second'
FROM predictions WHERE input_id BETWEEN :lo AND :hi AND model_version = '1';

UPDATE inputs i SET true_label = CASE WHEN random() < 0.85 THEN p.likely_class ELSE floor(random() * 10)::int END::text, labeled_at = i.created_at + interval '1 minute'
FROM predictions p
WHERE i.id BETWEEN :lo AND :hi AND i.id % 33 = 0 AND p.input_id = i.id AND p.model_version = '1';
