//! What every handler shares. Writes go through [`Commands`] (the same path the WebSocket
//! gateway uses); queries read the read models directly.

use chat_core::commands::Commands;
use chat_core::readmodel::ReadModel;
use chat_core::tokens::Tokens;

use crate::config::ApiConfig;

#[derive(Clone)]
pub struct ApiState {
    pub read: ReadModel,
    pub commands: Commands,
    pub tokens: Tokens,
    pub config: ApiConfig,
}
