//! FAILOVER: a coordinated switch of roles between this master and one of its replicas
//! (Redis's failoverCommand / updateFailoverStatus). Writes are paused; once the target (or
//! any replica) acknowledged the whole stream, this server turns into a replica of it and
//! asks it, with `PSYNC <replid> <offset> FAILOVER`, to become the master.

use super::ReplicaState;
use crate::client::Client;
use crate::command::{CmdError, CmdResult, Ctx};
use crate::server::Server;

/// Where a failover is (Redis's failover_state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailoverState {
    #[default]
    None,
    /// Waiting for the target replica to catch up.
    WaitForSync,
    /// We turned replica and sent PSYNC FAILOVER.
    InProgress,
}

/// The failover in progress.
#[derive(Debug, Default)]
pub struct Failover {
    pub state: FailoverState,
    pub end_ms: i64,
    pub force: bool,
    pub target: Option<(String, u16)>,
}

impl Server {
    /// Is a failover under way?
    pub fn failover_in_progress(&self) -> bool {
        self.repl.failover.state != FailoverState::None
    }

    /// INFO master_failover_state.
    pub fn failover_state_name(&self) -> &'static str {
        match self.repl.failover.state {
            FailoverState::None => "no-failover",
            FailoverState::InProgress => "failover-in-progress",
            FailoverState::WaitForSync => "waiting-for-sync",
        }
    }

    /// End the failover and resume writes (clearFailoverState).
    pub fn clear_failover_state(&mut self) {
        self.repl.failover = Failover::default();
        if self.pause_failover {
            self.pause_failover = false;
            self.resume_postponed_clients();
        }
    }

    /// Abort the failover, going back to master if we already switched (abortFailover).
    pub fn abort_failover(&mut self, err: &str) {
        if !self.failover_in_progress() {
            return;
        }
        match &self.repl.failover.target {
            Some((h, p)) => log::info!("FAILOVER to {}:{} aborted: {}", h, p, err),
            None => log::info!("FAILOVER to any replica aborted: {}", err),
        }
        if self.repl.failover.state == FailoverState::InProgress {
            self.replication_unset_master();
        }
        self.clear_failover_state();
    }

    /// A replica by announced address and listening port (findReplica).
    fn find_replica(&self, host: &str, port: u16) -> Option<&Client> {
        self.repl.replicas.iter().find_map(|r| {
            let c = self.clients.get(r.key)?.as_deref()?;
            let rc = c.repl.as_ref()?;
            let ip = rc
                .announced_ip
                .clone()
                .or_else(|| c.addr.rsplit_once(':').map(|x| x.0.to_string()))?;
            (ip.eq_ignore_ascii_case(host) && rc.listening_port == port as i64).then_some(c)
        })
    }

    /// Progress of a failover waiting for its replica (updateFailoverStatus, before sleep).
    pub fn update_failover_status(&mut self) {
        if self.repl.failover.state != FailoverState::WaitForSync {
            return;
        }
        let now = self.now_ms;
        let f = &self.repl.failover;
        if f.end_ms != 0 && f.end_ms <= now {
            if f.force {
                let (h, p) = f.target.clone().expect("force needs a target");
                log::info!("FAILOVER to {}:{} time out exceeded, failing over.", h, p);
                self.repl.failover.state = FailoverState::InProgress;
                self.replication_set_master(h, p);
            } else {
                self.abort_failover("Replica never caught up before timeout");
            }
            return;
        }
        let offset = self.repl.master_repl_offset;
        let caught_up = match self.repl.failover.target.clone() {
            Some((h, p)) => self
                .find_replica(&h, p)
                .and_then(|c| c.repl.as_ref())
                .is_some_and(|rc| rc.ack_off == offset),
            None => {
                let found = self.repl.replicas.iter().find_map(|r| {
                    let c = self.clients.get(r.key)?.as_deref()?;
                    let rc = c.repl.as_ref()?;
                    if rc.ack_off != offset {
                        return None;
                    }
                    let ip = rc
                        .announced_ip
                        .clone()
                        .or_else(|| c.addr.rsplit_once(':').map(|x| x.0.to_string()))?;
                    Some((ip, rc.listening_port as u16))
                });
                match found {
                    Some(t) => {
                        self.repl.failover.target = Some(t);
                        true
                    }
                    None => false,
                }
            }
        };
        if caught_up {
            let (h, p) = self.repl.failover.target.clone().expect("set");
            self.repl.failover.state = FailoverState::InProgress;
            log::info!("Failover target {}:{} is synced, failing over.", h, p);
            self.replication_set_master(h, p);
        }
    }
}

/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms].
pub fn failover_command(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.config.cluster_enabled {
        return Err(CmdError::err(
            "FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.",
        ));
    }
    if ctx.argv.len() == 2 && ctx.arg(1).eq_ignore_ascii_case(b"abort") {
        if !ctx.srv.failover_in_progress() {
            return Err(CmdError::err("No failover in progress."));
        }
        ctx.srv.abort_failover("Failover manually aborted");
        ctx.reply().ok();
        return Ok(());
    }
    let (mut timeout, mut force, mut target) = (0i64, false, None::<(String, i64)>);
    let mut j = 1;
    while j < ctx.argv.len() {
        let a = ctx.arg(j);
        if a.eq_ignore_ascii_case(b"timeout") && j + 1 < ctx.argv.len() && timeout == 0 {
            timeout = crate::util::numbers::string2l(ctx.arg(j + 1))
                .ok_or(crate::command::errors::NOT_INTEGER)?;
            if timeout <= 0 {
                return Err(CmdError::err("FAILOVER timeout must be greater than 0"));
            }
            j += 2;
        } else if a.eq_ignore_ascii_case(b"to") && j + 2 < ctx.argv.len() && target.is_none() {
            let port = crate::util::numbers::string2l(ctx.arg(j + 2))
                .ok_or(crate::command::errors::NOT_INTEGER)?;
            target = Some((String::from_utf8_lossy(ctx.arg(j + 1)).into_owned(), port));
            j += 3;
        } else if a.eq_ignore_ascii_case(b"force") && !force {
            force = true;
            j += 1;
        } else {
            return Err(crate::command::errors::SYNTAX);
        }
    }
    let srv = &mut *ctx.srv;
    if srv.failover_in_progress() {
        return Err(CmdError::err("FAILOVER already in progress."));
    }
    if srv.is_replica() {
        return Err(CmdError::err(
            "FAILOVER is not valid when server is a replica.",
        ));
    }
    if srv.repl.replicas.is_empty() {
        return Err(CmdError::err("FAILOVER requires connected replicas."));
    }
    if force && (timeout == 0 || target.is_none()) {
        return Err(CmdError::err(
            "FAILOVER with force option requires both a timeout and target HOST and IP.",
        ));
    }
    if let Some((host, port)) = &target {
        let port = (*port).clamp(0, 65535) as u16;
        let Some(c) = srv.find_replica(host, port) else {
            return Err(CmdError::err(
                "FAILOVER target HOST and PORT is not a replica.",
            ));
        };
        if c.repl.as_ref().and_then(|r| r.state) != Some(ReplicaState::Online) {
            return Err(CmdError::err("FAILOVER target replica is not online."));
        }
        log::info!("FAILOVER requested to {}:{}.", host, port);
        srv.repl.failover.target = Some((host.clone(), port));
    } else {
        log::info!("FAILOVER requested to any replica.");
    }
    if timeout > 0 {
        srv.repl.failover.end_ms = crate::server::mstime() + timeout;
    }
    srv.repl.failover.force = force;
    srv.repl.failover.state = FailoverState::WaitForSync;
    srv.pause_failover = true;
    ctx.reply().ok();
    Ok(())
}
