//! Handlers, one file per resource.

pub mod accounts;
pub mod admin;
pub mod health;
pub mod members;
pub mod messages;
pub mod openapi;
pub mod people;
pub mod public_rooms;
pub mod reactions;
pub mod reads;
pub mod rooms;
pub mod search;
pub mod status;
