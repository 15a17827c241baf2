//! Handlers, one file per resource.

pub mod accounts;
pub mod admin;
pub mod health;
pub mod messages;
pub mod openapi;
pub mod people;
pub mod reads;
pub mod rooms;
pub mod status;
