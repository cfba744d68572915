//! Blocked clients: BLPOP and friends wait on keys without polling. (Being built: this file
//! currently only fixes the API that list, sorted set and stream commands use.)
//!
//! API contract:
//! - A blocking command that finds nothing to serve calls [`block_on_keys`] and returns
//!   without replying; the client stops processing input until it is unblocked.
//! - Any write to a key (`Ctx::signal_modified`, a key being added) marks it ready if clients
//!   block on it; after the current command (or EXEC / script) finishes, the server re-runs each
//!   blocked client's command, in blocking order, while the key stays ready.
//! - On timeout the client gets a null array (RESP2 `*-1`), as Redis's
//!   replyToBlockedClientTimedOut does for list, zset and stream blocking.

use bytes::Bytes;

use crate::command::Ctx;
use crate::server::Server;

/// Block the calling client on `keys` (in its db) until one is ready, or until the absolute
/// time `timeout_ms` (0 = forever).
pub fn block_on_keys(ctx: &mut Ctx, _keys: &[Bytes], _timeout_ms: i64) {
    // Placeholder until the blocking machinery lands: behave as an immediate timeout.
    ctx.reply().null_array();
}

/// CLIENT UNBLOCK: unblock client `id` if it is blocked; true when it was.
pub fn unblock_by_id(srv: &mut Server, id: u64, _error: bool) -> bool {
    srv.clients
        .iter()
        .filter_map(|(_, c)| c.as_deref())
        .any(|c| c.id == id && c.has(crate::client::flags::BLOCKED))
}
