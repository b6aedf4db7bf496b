-- The compose postgres service creates POSTGRES_DB (aurora_rasa, Rasa's tracker
-- store) on its first start; this script, run once by the official image's entry
-- point on that first start, adds the marketing store's database.
CREATE DATABASE aurora_marketing;
