//! Blocked clients (BLPOP and friends, WAIT, CLIENT PAUSE postponement). The keyed blocking
//! machinery arrives with the list commands; today no command blocks, so there is never a
//! client to unblock.

use crate::server::Server;

/// CLIENT UNBLOCK: unblock client `id` if it is blocked; true when it was.
pub fn unblock_by_id(srv: &mut Server, id: u64, _error: bool) -> bool {
    srv.clients
        .iter()
        .filter_map(|(_, c)| c.as_deref())
        .any(|c| c.id == id && c.has(crate::client::flags::BLOCKED))
}
