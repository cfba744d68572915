//! Where ACLs meet the server: the permission check of processCommand / EXEC / scripts with
//! its log entry, authentication of a client, and what user changes do to connected clients
//! (deleted users' clients are disconnected; Pub/Sub clients that lost a channel too).

use bytes::Bytes;

use super::log::{Context, Entry, Reason};
use super::{Denied, User, UserId, DEFAULT_USER};
use crate::client::{flags as cf, Client, ClientType};
use crate::server::Server;

/// Redis's NOPERM reply for a command rejected before it runs.
pub fn denied_error(d: Denied, fullname: &str) -> String {
    match d {
        Denied::Command => format!(
            "NOPERM this user has no permissions to run the '{}' command",
            fullname
        ),
        Denied::Key(_) => {
            "NOPERM this user has no permissions to access one of the keys used as arguments"
                .to_string()
        }
        Denied::Channel(_) => {
            "NOPERM this user has no permissions to access one of the channels used as arguments"
                .to_string()
        }
    }
}

impl Server {
    /// Check command `id` for client `c` and log a denial (ACLCheckAllPerm +
    /// addACLLogEntry). Clients without a user, and unrestricted users, pass at once.
    #[inline]
    pub fn acl_check(
        &mut self,
        c: &Client,
        id: usize,
        argv: &[Bytes],
        context: Context,
    ) -> Result<(), Denied> {
        self.acl_check_logged_as(c, c, id, argv, context)
    }

    /// [`Server::acl_check`] for `c`'s user, logging `log_as` as the client (a script's
    /// caller rather than the script client).
    #[inline]
    pub fn acl_check_logged_as(
        &mut self,
        c: &Client,
        log_as: &Client,
        id: usize,
        argv: &[Bytes],
        context: Context,
    ) -> Result<(), Denied> {
        let Some(uid) = c.user else {
            return Ok(());
        };
        let u = self.acl.user(uid);
        if u.unrestricted {
            return Ok(());
        }
        let res = u.check_command(&self.commands, id, argv);
        if let Err(d) = res {
            let (reason, object) = match d {
                Denied::Command => (
                    Reason::Command,
                    self.commands.entries[id].fullname.as_bytes().to_vec(),
                ),
                Denied::Key(i) => (Reason::Key, argv[i].to_vec()),
                Denied::Channel(i) => (Reason::Channel, argv[i].to_vec()),
            };
            let username = u.name.clone();
            self.acl_log(log_as, reason, context, object, username);
        }
        res
    }

    /// Add an ACL log entry for client `c`.
    pub fn acl_log(
        &mut self,
        c: &Client,
        reason: Reason,
        context: Context,
        object: Vec<u8>,
        username: Vec<u8>,
    ) {
        let e = Entry {
            count: 1,
            reason,
            context,
            object,
            username,
            ctime_ms: crate::server::mstime(),
            cinfo: self.client_info(c),
        };
        let max = self.config.acllog_max_len as usize;
        self.acl.log.add(e, max);
    }

    /// Authenticate `c` as `name` (ACLAuthenticateUser): on a bad pair, log it and say no.
    /// `command` is the name as the client typed it (the log's object).
    pub fn acl_authenticate(
        &mut self,
        c: &mut Client,
        command: &[u8],
        name: &[u8],
        pass: &[u8],
    ) -> bool {
        match self.acl.check_credentials(name, pass) {
            Some(id) => {
                c.authenticated = true;
                c.user = Some(id);
                true
            }
            None => {
                let context = if c.has(cf::MULTI) {
                    Context::Multi
                } else {
                    Context::Toplevel
                };
                self.acl_log(c, Reason::Auth, context, command.to_vec(), name.to_vec());
                false
            }
        }
    }

    /// Disconnect the clients of users that no longer exist (ACLFreeUserAndKillClients):
    /// they fall back to the unauthenticated default user first, and the current client
    /// gets its reply before it goes.
    pub fn acl_kill_clients_of(&mut self, gone: &[UserId], current: &mut Client) {
        let victims: Vec<usize> = self
            .clients
            .iter()
            .filter_map(|(k, c)| c.as_deref().map(|c| (k, c)))
            .filter(|(_, c)| c.user.is_some_and(|u| gone.contains(&u)))
            .map(|(k, _)| k)
            .collect();
        for k in victims {
            if let Some(Some(c)) = self.clients.get_mut(k) {
                c.user = Some(DEFAULT_USER);
                c.authenticated = false;
            }
            self.close_client(k);
        }
        if current.user.is_some_and(|u| gone.contains(&u)) {
            current.user = Some(DEFAULT_USER);
            current.authenticated = false;
            current.flags |= cf::CLOSE_AFTER_REPLY;
        }
    }

    /// Before `updated` replaces user `id`: disconnect its Pub/Sub clients subscribed to
    /// channels the new rules no longer allow (ACLKillPubsubClientsIfNeeded).
    pub fn acl_kill_pubsub_clients_if_needed(
        &mut self,
        id: UserId,
        updated: &User,
        current: &mut Client,
    ) {
        if updated.has_all_channels() {
            return;
        }
        let upcoming = updated.all_channel_patterns();
        let original = self.acl.user(id);
        let still_covered = !original.has_all_channels()
            && original
                .all_channel_patterns()
                .iter()
                .all(|c| upcoming.contains(c));
        if still_covered {
            return;
        }
        let violates = |c: &Client| {
            c.user == Some(id)
                && c.client_type() == ClientType::PubSub
                && (c
                    .patterns
                    .iter()
                    .any(|p| !super::selector::channel_allowed(&upcoming, p, true))
                    || c.channels
                        .iter()
                        .chain(c.shard_channels.iter())
                        .any(|ch| !super::selector::channel_allowed(&upcoming, ch, false)))
        };
        let victims: Vec<usize> = self
            .clients
            .iter()
            .filter_map(|(k, c)| c.as_deref().filter(|c| violates(c)).map(|_| k))
            .collect();
        for k in victims {
            self.close_client(k);
        }
        if violates(current) {
            current.flags |= cf::CLOSE_AFTER_REPLY;
        }
    }
}
