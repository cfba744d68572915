//! RESP, both directions: [`parse`] reads client requests, [`reply`] writes replies.

pub mod parse;
pub mod reply;
