//! End-to-end tests of the all-in-one server against a real `nats-server` (one per test)
//! and a real Postgres (a database per test). Run by `ops/test`, which provides both.

mod app;
mod bad_input;
mod cluster;
mod compose;
mod exactness;
mod fair_limits;
mod fault_support;
mod faults_under_load;
mod http_hardening;
mod idempotency;
mod inbox;
mod lean_connections;
mod limits;
mod members;
mod observability;
mod outages;
mod partitions;
mod people;
mod people_bad_input;
mod presence;
mod projector_crash;
mod public_rooms;
mod readme;
mod reads;
mod reads_bad_input;
mod reads_restart;
mod realtime;
mod realtime_faults;
mod replay_isolation;
mod search;
mod search_bad_input;
mod search_restart;
mod security;
mod storm;
mod walkthrough;
