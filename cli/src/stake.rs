//! `daas stake …`, `daas unstake`, `daas node …`, `daas admin …`: the calls of
//! our package that are not kubectl requests.

use anyhow::{Context, bail};
use clap::ValueEnum;
use daas_domain::{Event, Role, roles::MIST_PER_SUI};
use sqlx::Row;
use sui_sdk_types::Address;

use crate::{
    chain::{self, Executed},
    session::Session,
};

/// A staking role, as the contract numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// A tenant: stake sets the tier of what it may submit.
    User,
    /// A node operator.
    Node,
    /// A cluster administrator.
    Admin,
}

impl RoleArg {
    /// The domain role.
    pub fn role(self) -> Role {
        match self {
            RoleArg::User => Role::User,
            RoleArg::Node => Role::Node,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// Parses an amount of SUI (`10`, `0.5`) into MIST.
pub fn parse_sui(s: &str) -> Result<u64, String> {
    let bad = || format!("{s:?} is not an amount of SUI like 10 or 0.5");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 9 || (whole.is_empty() && frac.is_empty()) {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(MIST_PER_SUI)
        .and_then(|w| w.checked_add(frac))
        .filter(|m| *m > 0)
        .ok_or_else(bad)
}

/// MIST as SUI for people.
pub fn sui(mist: u64) -> String {
    let s = format!("{}.{:09}", mist / MIST_PER_SUI, mist % MIST_PER_SUI);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn print_tx(what: &str, tx: &Executed) {
    println!(
        "{what} (tx {}, checkpoint {})",
        tx.digest,
        tx.checkpoint
            .map_or_else(|| "pending".to_owned(), |c| c.to_string())
    );
}

/// `staking::stake` (first stake in a role) or `staking::top_up`.
pub async fn stake(s: &mut Session, role: RoleArg, mist: u64, top_up: bool) -> anyhow::Result<()> {
    let min = role.role().min_stake();
    if !top_up && mist < min {
        bail!(
            "the {} role needs at least {} SUI; asked for {}",
            role.role().as_str(),
            sui(min),
            sui(mist)
        );
    }
    let pool = s.pool;
    let role_byte = role.role().to_move();
    let function = if top_up { "top_up" } else { "stake" };
    let tx = s
        .chain
        .call(&s.key, "staking", function, |b| {
            let gas = b.gas();
            let amount = b.pure(&mist);
            let coins = b.split_coins(gas, vec![amount]);
            vec![
                chain::shared(b, pool),
                coins[0],
                b.pure(&role_byte),
                chain::clock(b),
            ]
        })
        .await?;
    let total = tx.events.iter().find_map(|e| match e {
        Event::StakeDeposited(d) => Some(d.total_after),
        _ => None,
    });
    print_tx(
        &format!(
            "{} staked {} SUI as {}; {} SUI in that role now",
            s.sender,
            sui(mist),
            role.role().as_str(),
            total.map_or_else(|| "?".to_owned(), sui)
        ),
        &tx,
    );
    Ok(())
}

/// `staking::withdraw`.
pub async fn unstake(s: &mut Session, role: RoleArg, mist: u64) -> anyhow::Result<()> {
    let pool = s.pool;
    let role_byte = role.role().to_move();
    let tx = s
        .chain
        .call(&s.key, "staking", "withdraw", |b| {
            vec![
                chain::shared(b, pool),
                b.pure(&role_byte),
                b.pure(&mist),
                chain::clock(b),
            ]
        })
        .await?;
    print_tx(
        &format!(
            "{} withdrew {} SUI of its {} stake",
            s.sender,
            sui(mist),
            role.role().as_str()
        ),
        &tx,
    );
    Ok(())
}

/// `staking::slash` with the admin's `AdminCap`.
pub async fn slash(
    s: &mut Session,
    admin_cap: Address,
    staker: Address,
    role: RoleArg,
    mist: u64,
    reason: &str,
) -> anyhow::Result<()> {
    let pool = s.pool;
    let role_byte = role.role().to_move();
    let tx = s
        .chain
        .call(&s.key, "staking", "slash", |b| {
            vec![
                b.object(sui_transaction_builder::ObjectInput::new(admin_cap)),
                chain::shared(b, pool),
                b.pure(&staker),
                b.pure(&role_byte),
                b.pure(&mist),
                b.pure(&reason),
                chain::clock(b),
            ]
        })
        .await?;
    let left = tx.events.iter().find_map(|e| match e {
        Event::StakeSlashed(d) => Some(d.total_after),
        _ => None,
    });
    print_tx(
        &format!(
            "slashed {} SUI of {staker}'s {} stake; {} SUI left",
            sui(mist),
            role.role().as_str(),
            left.map_or_else(|| "?".to_owned(), sui)
        ),
        &tx,
    );
    Ok(())
}

/// `grants::grant`.
pub async fn grant(
    s: &mut Session,
    admin_cap: Address,
    namespace: &str,
    grantee: Address,
    editor: bool,
) -> anyhow::Result<()> {
    let cluster = s.cluster()?;
    let role: u8 = if editor { 1 } else { 0 };
    let tx = s
        .chain
        .call(&s.key, "grants", "grant", |b| {
            vec![
                b.object(sui_transaction_builder::ObjectInput::new(admin_cap)),
                chain::shared(b, cluster),
                b.pure(&namespace),
                b.pure(&grantee),
                b.pure(&role),
                chain::clock(b),
            ]
        })
        .await?;
    print_tx(
        &format!(
            "granted {grantee} {} in namespace {namespace}",
            if editor { "editor" } else { "viewer" }
        ),
        &tx,
    );
    Ok(())
}

/// `grants::grant_cluster_admin` (`grant`) or `grants::revoke_cluster_admin`.
pub async fn cluster_admin(
    s: &mut Session,
    admin_cap: Address,
    grantee: Address,
    grant: bool,
) -> anyhow::Result<()> {
    let cluster = s.cluster()?;
    let function = if grant {
        "grant_cluster_admin"
    } else {
        "revoke_cluster_admin"
    };
    let tx = s
        .chain
        .call(&s.key, "grants", function, |b| {
            vec![
                b.object(sui_transaction_builder::ObjectInput::new(admin_cap)),
                chain::shared(b, cluster),
                b.pure(&grantee),
                chain::clock(b),
            ]
        })
        .await?;
    let what = if grant {
        format!(
            "granted {grantee} cluster admin (effective while its admin stake is at least {} SUI)",
            Role::Admin.min_stake() / MIST_PER_SUI
        )
    } else {
        format!("revoked {grantee}'s cluster admin")
    };
    print_tx(&what, &tx);
    Ok(())
}

/// `nodes::register_node`.
pub async fn register_node(
    s: &mut Session,
    name: &str,
    public_key: &str,
    endpoint: &str,
) -> anyhow::Result<()> {
    let registry = s.node_registry()?;
    let pool = s.pool;
    let key = hex::decode(public_key.trim_start_matches("0x"))
        .context("--public-key must be hex (as `worker key show` prints it)")?;
    if key.len() != 32 {
        bail!("--public-key must be 32 bytes (Ed25519); got {}", key.len());
    }
    let tx = s
        .chain
        .call(&s.key, "nodes", "register_node", |b| {
            vec![
                chain::shared(b, registry),
                chain::shared(b, pool),
                b.pure(&name),
                b.pure(&key),
                b.pure(&endpoint),
                chain::clock(b),
            ]
        })
        .await?;
    print_tx(
        &format!("node {name} registered, operated by {}", s.sender),
        &tx,
    );
    Ok(())
}

/// `nodes::deregister_node`.
pub async fn deregister_node(s: &mut Session, name: &str) -> anyhow::Result<()> {
    let registry = s.node_registry()?;
    let tx = s
        .chain
        .call(&s.key, "nodes", "deregister_node", |b| {
            vec![chain::shared(b, registry), b.pure(&name), chain::clock(b)]
        })
        .await?;
    print_tx(&format!("node {name} deregistered"), &tx);
    Ok(())
}

/// `daas stake show`: an address's stakes from the projection.
pub async fn show(database_url: &str, schema: &str, who: Address) -> anyhow::Result<String> {
    let pool = crate::stats::connect(database_url, schema).await?;
    let rows = sqlx::query(&format!(
        "SELECT role, amount_mist FROM {schema}.stakes WHERE staker = $1 ORDER BY role"
    ))
    .bind(who.to_string())
    .fetch_all(&pool)
    .await
    .context("reading stakes")?;
    let nodes = sqlx::query(&format!(
        "SELECT name, status FROM {schema}.nodes WHERE operator = $1 ORDER BY name"
    ))
    .bind(who.to_string())
    .fetch_all(&pool)
    .await
    .context("reading nodes")?;
    pool.close().await;
    let mut out = format!("{who}\n");
    if rows.is_empty() {
        out.push_str("  no stake\n");
    }
    let mut tier = 0u64;
    for r in &rows {
        let role: String = r.try_get("role")?;
        let amount: i64 = r.try_get("amount_mist")?;
        let amount = u64::try_from(amount).unwrap_or(0);
        tier += amount;
        out.push_str(&format!("  {role:<6} {:>14} SUI\n", sui(amount)));
    }
    if !rows.is_empty() {
        out.push_str(&format!(
            "  {:<6} {:>14} SUI (what requests are checked against)\n",
            "tier",
            sui(tier)
        ));
    }
    for n in &nodes {
        let name: String = n.try_get("name")?;
        let status: String = n.try_get("status")?;
        out.push_str(&format!("  node {name}: {status}\n"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sui_amounts_parse_and_print_exactly() {
        assert_eq!(parse_sui("10"), Ok(10 * MIST_PER_SUI));
        assert_eq!(parse_sui("0.5"), Ok(MIST_PER_SUI / 2));
        assert_eq!(parse_sui(".000000001"), Ok(1));
        for bad in [
            "",
            "0",
            "1.0000000001",
            "-1",
            "ten",
            "1e9",
            "99999999999999999999",
        ] {
            assert!(parse_sui(bad).is_err(), "{bad}");
        }
        assert_eq!(sui(5 * MIST_PER_SUI), "5");
        assert_eq!(sui(1_500_000_000), "1.5");
        assert_eq!(sui(1), "0.000000001");
    }
}
