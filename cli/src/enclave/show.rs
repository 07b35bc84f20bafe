//! `daas enclave show` and `daas admin register-pcrs`: the registry's PCR
//! sets and the cluster's current enclave, for people and scripts.

use std::path::Path;

use anyhow::{Context, bail};
use daas_domain::{Event, events::PcrSetRegistered};
use serde_json::{Value, json};
use sui_sdk_types::Address;

use super::{EnclaveRecord, rfc3339};
use crate::{
    chain::{self, Chain},
    seal::ClusterKey,
    session::Session,
};

/// PCR0-2, 48 bytes each.
pub type Pcrs = [[u8; 48]; 3];

/// What `daas enclave show` prints.
#[derive(Clone, Debug)]
pub struct Registry {
    /// The latest PCR set, if any.
    pub pcr_set: Option<PcrSetRegistered>,
    /// The cluster's current enclave (its last registration), if any.
    pub enclave: Option<EnclaveRecord>,
    /// The cluster's current sealing key, if any.
    pub sealing_key: Option<ClusterKey>,
}

/// Reads the registry's state for `cluster` from the chain.
pub async fn read(chain: &mut Chain, cluster: Address) -> anyhow::Result<Registry> {
    let pcr_set = super::pcr_sets(chain)
        .await?
        .into_iter()
        .max_by_key(|p| p.version);
    let enclave = super::enclaves_of(chain, cluster).await?.pop();
    let sealing_key = crate::seal::fetch_key(chain, cluster).await.ok();
    Ok(Registry {
        pcr_set,
        enclave,
        sealing_key,
    })
}

impl Registry {
    /// As JSON (hex bytes; `null` for what is not registered).
    pub fn to_json(&self) -> Value {
        json!({
            "pcr_set": self.pcr_set.as_ref().map(|p| json!({
                "version": p.version,
                "pcr0": hex::encode(&p.pcr0.0),
                "pcr1": hex::encode(&p.pcr1.0),
                "pcr2": hex::encode(&p.pcr2.0),
            })),
            "enclave": self.enclave.as_ref().map(|r| {
                let e = &r.event;
                json!({
                    "public_key": hex::encode(&e.public_key.0),
                    "pcr_version": e.pcr_version,
                    "sealing_key_version": e.sealing_key_version,
                    "sealing_public_key": hex::encode(&e.sealing_public_key.0),
                    "module_id": String::from_utf8_lossy(&e.module_id.0),
                    "dev": r.is_dev(),
                    "attestation_timestamp_ms": e.attestation_timestamp_ms,
                    "attestation_time": rfc3339(e.attestation_timestamp_ms),
                    "registered_by": e.registered_by.to_string(),
                    "transaction_digest": r.transaction_digest,
                })
            }),
            "sealing_key": self.sealing_key.as_ref().map(|k| json!({
                "version": k.version,
                "public_key": hex::encode(k.public_key),
            })),
        })
    }

    /// As text, one `name: value` per line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        match &self.pcr_set {
            Some(p) => {
                out += &format!("PCR set:             version {}\n", p.version);
                for (i, v) in [&p.pcr0, &p.pcr1, &p.pcr2].into_iter().enumerate() {
                    out += &format!("  PCR{i}:              {}\n", hex::encode(&v.0));
                }
            }
            None => out += "PCR set:             none (`daas admin register-pcrs`)\n",
        }
        match &self.enclave {
            Some(r) => {
                let e = &r.event;
                let dev = if r.is_dev() {
                    "  DEV (a local test CA, not an AWS Nitro enclave)"
                } else {
                    ""
                };
                out += &format!(
                    "enclave key:         {}{dev}\n",
                    hex::encode(&e.public_key.0)
                );
                out += &format!(
                    "  module_id:         {}\n",
                    String::from_utf8_lossy(&e.module_id.0).escape_debug()
                );
                out += &format!("  PCR set:           {}\n", e.pcr_version);
                out += &format!(
                    "  attested:          {} ({} ms)\n",
                    rfc3339(e.attestation_timestamp_ms),
                    e.attestation_timestamp_ms
                );
                out += &format!(
                    "  sealing key:       version {} {}\n",
                    e.sealing_key_version,
                    hex::encode(&e.sealing_public_key.0)
                );
                out += &format!("  registered by:     {}\n", e.registered_by);
                out += &format!("  transaction:       {}\n", r.transaction_digest);
            }
            None => {
                out += "enclave key:         none registered for this cluster (`master register`)\n"
            }
        }
        match &self.sealing_key {
            Some(k) => {
                out += &format!(
                    "cluster sealing key: version {} {}\n",
                    k.version,
                    hex::encode(k.public_key)
                )
            }
            None => out += "cluster sealing key: none\n",
        }
        out
    }
}

/// 96 hex digits (`0x` allowed) as a 48-byte PCR.
pub fn pcr_hex(name: &str, text: &str) -> anyhow::Result<[u8; 48]> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(t).with_context(|| format!("{name}: not hex"))?;
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("{name}: {len} bytes; a PCR is 48 (SHA-384, 96 hex digits)"))
}

/// `Measurements.PCR0/1/2` of `nitro-cli build-enclave` or `describe-eif`
/// output.
pub fn pcrs_from_eif_json(text: &str) -> anyhow::Result<Pcrs> {
    let v: Value = serde_json::from_str(text).context("not JSON")?;
    let m = v
        .get("Measurements")
        .context("no \"Measurements\" object (nitro-cli build-enclave or describe-eif output)")?;
    let pcr = |name: &str| -> anyhow::Result<[u8; 48]> {
        let text = m
            .get(name)
            .and_then(Value::as_str)
            .with_context(|| format!("no Measurements.{name}"))?;
        pcr_hex(name, text)
    };
    Ok([pcr("PCR0")?, pcr("PCR1")?, pcr("PCR2")?])
}

/// The PCRs `daas admin register-pcrs` was given.
pub fn pcrs_arg(
    hex: Option<[&str; 3]>,
    eif_json: Option<&Path>,
    debug_zeros: bool,
) -> anyhow::Result<Pcrs> {
    match (hex, eif_json, debug_zeros) {
        (Some([p0, p1, p2]), None, false) => Ok([
            pcr_hex("--pcr0", p0)?,
            pcr_hex("--pcr1", p1)?,
            pcr_hex("--pcr2", p2)?,
        ]),
        (None, Some(path), false) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            pcrs_from_eif_json(&text).with_context(|| path.display().to_string())
        }
        (None, None, true) => Ok([[0; 48]; 3]),
        _ => bail!("give one of --pcr0/--pcr1/--pcr2, --eif-json or --debug-zeros"),
    }
}

/// `enclave::register_pcrs` with the `AdminCap`; the registered set (from
/// the transaction's event).
pub async fn register_pcrs(
    s: &mut Session,
    admin_cap: Address,
    pcrs: Pcrs,
) -> anyhow::Result<PcrSetRegistered> {
    let registry = super::registry_id(s)?;
    let [p0, p1, p2] = pcrs.map(|p| p.to_vec());
    let tx = s
        .chain
        .call(&s.key, "enclave", "register_pcrs", |b| {
            vec![
                b.object(sui_transaction_builder::ObjectInput::new(admin_cap)),
                chain::shared(b, registry),
                b.pure(&p0),
                b.pure(&p1),
                b.pure(&p2),
                chain::clock(b),
            ]
        })
        .await?;
    tx.events
        .into_iter()
        .find_map(|e| match e {
            Event::PcrSetRegistered(p) => Some(p),
            _ => None,
        })
        .with_context(|| format!("tx {}: the chain emitted no PcrSetRegistered", tx.digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape `nitro-cli build-enclave` prints (from its documentation;
    /// values made up).
    const EIF: &str = r#"{
      "Measurements": {
        "HashAlgorithm": "Sha384 { ... }",
        "PCR0": "7fb5c55bc2ecbb68ed99a13d7122abfc0666b926a79d5379bc58b9445c84217f59cfdd36c08b2c79552928702efe23e4",
        "PCR1": "235c9e6050abf6b993c915505f3220e2d82b51aff830ad14cbecc2eec1bf0b4ae749d311c663f464cde9f718acca5286",
        "PCR2": "0f0ac32c300289e872e6ac4d19b0b5ac4a9b020c98295643ff3978610750ce6a86f7edff24e3c0a4a445f2ff8a9ea79d"
      }
    }"#;

    #[test]
    fn pcrs_are_read_from_hex_an_eif_json_or_zeros() {
        let pcrs = pcrs_from_eif_json(EIF).expect("eif json");
        assert_eq!(pcrs[0][..4], [0x7f, 0xb5, 0xc5, 0x5b]);
        assert_eq!(pcrs[2][47], 0x9d);
        let p1 = "235c9e6050abf6b993c915505f3220e2d82b51aff830ad14cbecc2eec1bf0b4ae749d311c663f464cde9f718acca5286";
        let hex = [&"00".repeat(48)[..], p1, &format!("0x{}", "ab".repeat(48))];
        let given = pcrs_arg(Some(hex), None, false).expect("hex");
        assert_eq!(
            (given[0], given[1], given[2]),
            ([0; 48], pcrs[1], [0xab; 48])
        );
        assert_eq!(pcrs_arg(None, None, true).expect("zeros"), [[0; 48]; 3]);
        for bad in [
            r#"{"PCR0": "00"}"#,
            r#"{"Measurements": {"PCR0": "00", "PCR1": "00", "PCR2": "00"}}"#,
            r#"{"Measurements": {"PCR0": 5}}"#,
            "not json",
        ] {
            assert!(pcrs_from_eif_json(bad).is_err(), "{bad}");
        }
        assert!(pcr_hex("--pcr0", &"0".repeat(95)).is_err());
        assert!(pcr_hex("--pcr0", &"00".repeat(32)).is_err());
    }
}
