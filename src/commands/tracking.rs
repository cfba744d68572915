//! CLIENT TRACKING, CLIENT CACHING, CLIENT GETREDIR and CLIENT TRACKINGINFO: the client side
//! of client-side caching (the server side is `crate::tracking`).

use bytes::Bytes;

use crate::client::flags as cf;
use crate::command::args::is;
use crate::command::{acl, errors, flags::*, CmdError, CmdResult, CommandSpec, Ctx, Group};
use crate::tracking::ClientTracking;

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
fn client_tracking(ctx: &mut Ctx) -> CmdResult {
    let mut redirect: u64 = 0;
    let mut opts = ClientTracking::default();
    let mut prefixes: Vec<Bytes> = Vec::new();
    let argc = ctx.argv.len();
    let mut j = 3;
    while j < argc {
        let more = argc - 1 - j;
        let a = ctx.arg(j);
        if is(a, "redirect") && more > 0 {
            j += 1;
            if redirect != 0 {
                return Err(CmdError::err(
                    "A client can only redirect to a single other client",
                ));
            }
            let id = crate::command::args::parse_i64(ctx.arg(j))?;
            let exists =
                id as u64 == ctx.client.id || ctx.srv.client_ids.contains_key(&(id as u64));
            if !exists {
                return Err(CmdError::err(
                    "The client ID you want redirect to does not exist",
                ));
            }
            redirect = id as u64;
        } else if is(a, "bcast") {
            opts.bcast = true;
        } else if is(a, "optin") {
            opts.optin = true;
        } else if is(a, "optout") {
            opts.optout = true;
        } else if is(a, "noloop") {
            opts.noloop = true;
        } else if is(a, "prefix") && more > 0 {
            j += 1;
            prefixes.push(ctx.argv[j].clone());
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    if is(ctx.arg(2), "on") {
        let c = &*ctx.client;
        if !opts.bcast && !prefixes.is_empty() {
            return Err(CmdError::err(
                "PREFIX option requires BCAST mode to be enabled",
            ));
        }
        if c.has(cf::TRACKING) && c.tracking.bcast != opts.bcast {
            return Err(CmdError::err("You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
        if opts.bcast && (opts.optin || opts.optout) {
            return Err(CmdError::err(
                "OPTIN and OPTOUT are not compatible with BCAST",
            ));
        }
        if opts.optin && opts.optout {
            return Err(CmdError::err(
                "You can't specify both OPTIN mode and OPTOUT mode",
            ));
        }
        if (opts.optin && c.tracking.optout) || (opts.optout && c.tracking.optin) {
            return Err(CmdError::err("You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
        crate::tracking::enable(ctx.srv, ctx.client, redirect, opts, &prefixes)
            .map_err(CmdError::Owned)?;
    } else if is(ctx.arg(2), "off") {
        crate::tracking::disable(ctx.srv, ctx.client);
    } else {
        return Err(errors::SYNTAX);
    }
    ctx.reply().ok();
    Ok(())
}

/// CLIENT CACHING YES|NO
fn client_caching(ctx: &mut Ctx) -> CmdResult {
    let c = &mut *ctx.client;
    if !c.has(cf::TRACKING) {
        return Err(CmdError::err("CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    }
    let opt = ctx.argv[2].clone();
    if is(&opt, "yes") {
        if !c.tracking.optin {
            return Err(CmdError::err(
                "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if is(&opt, "no") {
        if !c.tracking.optout {
            return Err(CmdError::err(
                "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(errors::SYNTAX);
    }
    c.tracking.caching = true;
    ctx.reply().ok();
    Ok(())
}

/// CLIENT GETREDIR
fn client_getredir(ctx: &mut Ctx) -> CmdResult {
    let c = &*ctx.client;
    let v = if c.has(cf::TRACKING) {
        c.tracking.redirect as i64
    } else {
        -1
    };
    ctx.reply().int(v);
    Ok(())
}

/// CLIENT TRACKINGINFO
fn client_trackinginfo(ctx: &mut Ctx) -> CmdResult {
    let on = ctx.client.has(cf::TRACKING);
    let t = ctx.client.tracking.clone();
    let mut fl: Vec<&[u8]> = vec![if on { b"on" } else { b"off" }];
    if t.bcast {
        fl.push(b"bcast");
    }
    if t.optin {
        fl.push(b"optin");
        if t.caching {
            fl.push(b"caching-yes");
        }
    }
    if t.optout {
        fl.push(b"optout");
        if t.caching {
            fl.push(b"caching-no");
        }
    }
    if t.noloop {
        fl.push(b"noloop");
    }
    if t.broken_redir {
        fl.push(b"broken_redirect");
    }
    let r = ctx.reply();
    r.map_len(3);
    r.bulk(b"flags");
    r.set_len(fl.len());
    for f in fl {
        r.bulk(f);
    }
    r.bulk(b"redirect");
    r.int(if on { t.redirect as i64 } else { -1 });
    r.bulk(b"prefixes");
    r.array_len(t.prefixes.len());
    for p in &t.prefixes {
        r.bulk(p);
    }
    Ok(())
}

/// CLIENT TRACKING.
pub const TRACKING: CommandSpec = CommandSpec::new("tracking", -3, client_tracking)
        .flags(NOSCRIPT | LOADING | STALE)
        .acl(acl::CONNECTION)
        .group(Group::Connection)
        .since("6.0.0")
        .doc(
            "Controls server-assisted client-side caching for the connection.",
            "O(1). Some options may introduce additional complexity.",
        )
        .syntax("status=ON|OFF [REDIRECT client-id:integer] [PREFIX prefix:string ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]");

/// CLIENT CACHING.
pub const CACHING: CommandSpec = CommandSpec::new("caching", 3, client_caching)
    .flags(NOSCRIPT | LOADING | STALE)
    .acl(acl::CONNECTION)
    .group(Group::Connection)
    .since("6.0.0")
    .doc(
        "Instructs the server whether to track the keys in the next request.",
        "O(1)",
    )
    .syntax("mode=YES|NO");

/// CLIENT GETREDIR.
pub const GETREDIR: CommandSpec = CommandSpec::new("getredir", 2, client_getredir)
    .flags(NOSCRIPT | LOADING | STALE)
    .acl(acl::CONNECTION)
    .group(Group::Connection)
    .since("6.0.0")
    .doc(
        "Returns the client ID to which the connection's tracking notifications are redirected.",
        "O(1)",
    );

/// CLIENT TRACKINGINFO.
pub const TRACKINGINFO: CommandSpec = CommandSpec::new("trackinginfo", 2, client_trackinginfo)
    .flags(NOSCRIPT | LOADING | STALE)
    .acl(acl::CONNECTION)
    .group(Group::Connection)
    .since("6.2.0")
    .doc(
        "Returns information about server-assisted client-side caching for the connection.",
        "O(1)",
    );
