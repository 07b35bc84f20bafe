//! Sealed Secrets on the client side: a Secret's values never leave `daas` in
//! clear, because the chain is public and anyone can read a transaction.
//!
//! - The cluster's current sealing key is read from the chain: every
//!   `<package>::enclave::SealingKeyRegistered` event (`ListEvents`), decoded
//!   with the shared domain decoder, for the configured cluster, highest
//!   version ([`fetch_key`]).
//! - Each v1 Secret with values is sealed with `daas_sealing::seal_secret`
//!   (`stringData` moved into `data`, every value sealed to that key and bound
//!   to cluster, namespace, name, data key and key version); an already sealed
//!   Secret (annotated `k3s-daas.io/sealed`) is sent as it is once every value
//!   is checked to be a sealed value bound to it ([`seal_docs`]).
//! - Anything else is refused before a transaction is built: no key on chain,
//!   a failed read, a value that cannot be sealed, `stringData` or a plaintext
//!   value in an annotated Secret, a `Secret` kind that is not core `v1`.

use anyhow::{Context, bail};
use daas_domain::{
    Event, ObjectId,
    events::{self, SealingKeyRegistered},
    sealed,
};
use daas_sealing::SealingPublicKey;
use serde_json::Value;
use sui_sdk_types::Address;

use crate::{chain::Chain, files::Doc};

/// Why `daas` refuses to send a Secret it cannot seal.
pub const WHY_SEALED: &str = "the chain is public: anyone can read a transaction's manifest, so \
                              daas sends a Secret's values only sealed to the cluster's key";

/// kubectl's copy of the last applied object: in a Secret it holds every
/// value in clear, so `daas` drops it from Secrets.
pub use daas_domain::sealed::LAST_APPLIED;

/// A cluster's sealing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterKey {
    /// The cluster.
    pub cluster: ObjectId,
    /// The key version the chain assigned (1, 2, ...).
    pub version: u32,
    /// The X25519 public key.
    pub public_key: [u8; 32],
}

/// The domain's object id for a Sui address.
pub fn object_id(a: Address) -> ObjectId {
    daas_domain::Address(a.into_inner())
}

/// The current key of `cluster` among `registered` (any order): its highest
/// version; `None` when it has none.
pub fn current_key(registered: &[SealingKeyRegistered], cluster: ObjectId) -> Option<ClusterKey> {
    registered
        .iter()
        .filter(|r| r.cluster_id == cluster)
        .filter_map(|r| {
            let version = u32::try_from(r.version).ok().filter(|v| *v != 0)?;
            let public_key: [u8; 32] = r.public_key.0.as_slice().try_into().ok()?;
            Some(ClusterKey {
                cluster,
                version,
                public_key,
            })
        })
        .max_by_key(|k| k.version)
}

/// Reads `cluster`'s current sealing key from the chain, and uses it only
/// when an attested enclave of the cluster holds it ([`attested_key`]).
pub async fn fetch_attested_key(
    chain: &mut Chain,
    cluster: Address,
    allow_dev: bool,
) -> anyhow::Result<ClusterKey> {
    let key = fetch_key(chain, cluster).await?;
    let enclaves = crate::enclave::enclaves_of(chain, cluster).await?;
    attested_key(key, &enclaves, allow_dev)
}

/// `key` when an `EnclaveRegistered` of its cluster bound that version and
/// public key with a Nitro (not dev) document; with `allow_dev`, also when a
/// dev enclave bound it or when no enclave did (the key came from
/// `daas admin register-sealing-key`, the AdminCap path), with a warning.
pub fn attested_key(
    key: ClusterKey,
    enclaves: &[crate::enclave::EnclaveRecord],
    allow_dev: bool,
) -> anyhow::Result<ClusterKey> {
    let binding: Vec<&crate::enclave::EnclaveRecord> = enclaves
        .iter()
        .filter(|r| {
            r.event.cluster_id == key.cluster
                && r.event.sealing_key_version == u64::from(key.version)
                && r.event.sealing_public_key.0 == key.public_key
        })
        .collect();
    if binding.iter().any(|r| !r.is_dev()) {
        return Ok(key);
    }
    let why = if binding.is_empty() {
        "no attested enclave of the cluster holds it (it was registered with the AdminCap)"
    } else {
        "only an enclave with a DEV attestation holds it"
    };
    anyhow::ensure!(
        allow_dev,
        "the cluster's sealing key version {} is not attested: {why}; pass \
         --allow-dev-attestation to seal to it anyway",
        key.version
    );
    eprintln!(
        "warning: DEV attestation: sealing to key version {} although {why}",
        key.version
    );
    Ok(key)
}

/// Reads `cluster`'s current sealing key from the chain (not checked to be
/// an attested enclave's: see [`fetch_attested_key`]).
pub async fn fetch_key(chain: &mut Chain, cluster: Address) -> anyhow::Result<ClusterKey> {
    let raw = chain
        .list_events("enclave", "SealingKeyRegistered")
        .await
        .context("reading the cluster's sealing keys from the chain")?;
    let mut registered = Vec::new();
    for bytes in raw {
        match events::decode("enclave", "SealingKeyRegistered", &bytes) {
            Ok(events::Decoded::Known(Event::SealingKeyRegistered(r))) => registered.push(r),
            // The contract emits only valid keys; one the domain refuses is
            // never sealed to.
            Ok(_) | Err(_) => {
                tracing::warn!("skipping a SealingKeyRegistered event that does not decode")
            }
        }
    }
    key_from(&registered, object_id(cluster))
}

/// The current key of `cluster` among `registered`, or the error that says
/// none is registered and how to register one.
pub fn key_from(
    registered: &[SealingKeyRegistered],
    cluster: ObjectId,
) -> anyhow::Result<ClusterKey> {
    current_key(registered, cluster).with_context(|| {
        format!(
            "no sealing key is registered on chain for cluster {cluster}: the cluster's admin \
             registers the master's key first (`master sealing-key show`, then `daas admin \
             register-sealing-key --public-key HEX`)"
        )
    })
}

/// What happens to one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Sent as it is: not a Secret, a Secret with no values, or sealed already.
    AsIs,
    /// A Secret with values in clear: sealed before it is sent.
    Seal,
}

/// Decides what `doc` needs; `Err` is why it cannot be sent at all.
pub fn plan(doc: &Doc, cluster: ObjectId) -> anyhow::Result<Plan> {
    if !doc.kind.eq_ignore_ascii_case("Secret") {
        return Ok(Plan::AsIs);
    }
    if doc.kind != "Secret" || doc.api_version != "v1" {
        bail!(
            "{} {} is not a core v1 Secret; daas seals only `apiVersion: v1, kind: Secret`",
            sealed::printable(&doc.api_version),
            sealed::printable(&doc.kind)
        );
    }
    let object: Value = serde_json::from_slice(&doc.manifest).context("not JSON")?;
    let Some(version) = sealed::sealed_version(&object)
        .map_err(|e| anyhow::anyhow!("its {} annotation is not valid: {e}", sealed::ANNOTATION))?
    else {
        let has_values = ["data", "stringData"]
            .iter()
            .any(|f| sealed::has_values(&object, f));
        return Ok(if has_values { Plan::Seal } else { Plan::AsIs });
    };
    check_sealed(doc, &object, cluster, version)?;
    Ok(Plan::AsIs)
}

/// An annotated Secret holds only sealed values bound to it (the domain's
/// own check; whether the chain registered the version is the master's
/// to say).
fn check_sealed(doc: &Doc, object: &Value, cluster: ObjectId, version: u32) -> anyhow::Result<()> {
    if !matches!(
        object.get("data"),
        None | Some(Value::Null | Value::Object(_))
    ) {
        bail!("its data is not a map");
    }
    sealed::check_sealed(cluster, &doc.namespace, &doc.name, object, version, |_| {
        true
    })
    .map_err(|r| anyhow::anyhow!("{} (the master would reject it)", r.message))
}

/// Seals one Secret manifest to `key`.
fn seal_one(doc: &Doc, key: &ClusterKey) -> anyhow::Result<Vec<u8>> {
    let object: Value = serde_json::from_slice(&doc.manifest).context("not JSON")?;
    let sealed = daas_sealing::seal_secret(
        &object,
        key.cluster,
        key.version,
        &SealingPublicKey(key.public_key),
        &mut daas_sealing::rng::os(),
    )
    .map_err(|e| anyhow::anyhow!("sealing it failed: {e}"))?;
    serde_json::to_vec(&sealed).context("encoding the sealed Secret")
}

/// Drops kubectl's last-applied copy from a Secret (it holds the values in
/// clear); true if there was one.
fn drop_last_applied(doc: &mut Doc) -> anyhow::Result<bool> {
    let mut object: Value = serde_json::from_slice(&doc.manifest).context("not JSON")?;
    let dropped = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
        .and_then(|a| a.remove(LAST_APPLIED))
        .is_some();
    if dropped {
        doc.manifest = serde_json::to_vec(&object).context("encoding")?;
    }
    Ok(dropped)
}

/// Makes every document safe to send: Secrets sealed to the key `key`
/// gives (asked only when a Secret needs sealing) or checked sealed for
/// `cluster`, the rest as they are. Fails, naming each Secret and why, if
/// any Secret cannot be sent sealed; then nothing may be sent.
pub async fn seal_docs<F, Fut>(
    mut docs: Vec<Doc>,
    cluster: ObjectId,
    key: F,
) -> anyhow::Result<Vec<Doc>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<ClusterKey>>,
{
    let mut refused = Vec::new();
    let mut to_seal = Vec::new();
    for (i, doc) in docs.iter_mut().enumerate() {
        if doc.kind == "Secret" && drop_last_applied(doc)? {
            eprintln!(
                "Warning: {} ({}): dropped the {LAST_APPLIED} annotation: it holds the Secret in clear",
                doc.shown(),
                doc.source
            );
        }
        match plan(doc, cluster) {
            Ok(Plan::AsIs) => {}
            Ok(Plan::Seal) => to_seal.push(i),
            Err(e) => refused.push(refusal(doc, &e)),
        }
    }
    if !to_seal.is_empty() && refused.is_empty() {
        let key = key().await.and_then(|k| {
            anyhow::ensure!(
                k.cluster == cluster,
                "the sealing key is for another cluster"
            );
            Ok(k)
        });
        for i in to_seal {
            let doc = &mut docs[i];
            let sealed = match &key {
                Ok(k) => seal_one(doc, k).map(|m| (m, k.version)),
                Err(e) => Err(anyhow::anyhow!("{e:#}")),
            };
            match sealed {
                Ok((manifest, version)) => {
                    doc.manifest = manifest;
                    eprintln!(
                        "{} ({}): sealed to the cluster's sealing key version {version}",
                        doc.shown(),
                        doc.source
                    );
                }
                Err(e) => refused.push(refusal(doc, &e)),
            }
        }
    }
    if !refused.is_empty() {
        bail!("nothing was sent:\n{}", refused.join("\n"));
    }
    Ok(docs)
}

fn refusal(doc: &Doc, why: &anyhow::Error) -> String {
    format!(
        "refusing to send {} ({}) in clear: {WHY_SEALED}; {why:#}",
        doc.shown(),
        doc.source
    )
}

/// Reads `--public-key`: 64 hex digits (`0x` allowed), `-` for standard
/// input, or a file; from text (`master sealing-key show`'s output), the
/// one 64-hex-digit word in it.
pub fn public_key_arg(arg: &str) -> anyhow::Result<[u8; 32]> {
    if let Some(key) = hex_key(arg.trim()) {
        return Ok(key);
    }
    let text = if arg == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        let path = std::path::Path::new(arg);
        anyhow::ensure!(
            path.exists(),
            "--public-key {arg:?} is neither 64 hex digits (32 bytes, X25519) nor a file"
        );
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    public_key_in(&text)
}

/// The one X25519 public key (64 hex digits) in `text`.
pub fn public_key_in(text: &str) -> anyhow::Result<[u8; 32]> {
    let mut found: Vec<[u8; 32]> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(hex_key)
        .collect();
    found.sort_unstable();
    found.dedup();
    match found.as_slice() {
        [key] => Ok(*key),
        [] => bail!("no public key (64 hex digits) found in the input"),
        _ => bail!(
            "{} different 64-hex-digit words in the input; pass the public key itself",
            found.len()
        ),
    }
}

fn hex_key(word: &str) -> Option<[u8; 32]> {
    let word = word.strip_prefix("0x").unwrap_or(word);
    if word.len() != 64 {
        return None;
    }
    hex::decode(word).ok()?.try_into().ok()
}

/// `enclave::register_sealing_key` with the `AdminCap`: registers
/// `public_key` as the configured cluster's next sealing key and prints the
/// version the chain assigned (read from the transaction's event).
pub async fn register(
    s: &mut crate::session::Session,
    admin_cap: Address,
    public_key: [u8; 32],
) -> anyhow::Result<u32> {
    let cluster = s.cluster()?;
    let registry = s.settings.need_id(
        &s.settings.config.enclave_registry_id,
        "enclave_registry_id",
        "DAAS_ENCLAVE_REGISTRY_ID",
    )?;
    let key = public_key.to_vec();
    let tx = s
        .chain
        .call(&s.key, "enclave", "register_sealing_key", |b| {
            vec![
                b.object(sui_transaction_builder::ObjectInput::new(admin_cap)),
                crate::chain::shared(b, registry),
                crate::chain::shared(b, cluster),
                b.pure(&key),
                crate::chain::clock(b),
            ]
        })
        .await?;
    let id = object_id(cluster);
    let version = tx
        .events
        .iter()
        .find_map(|e| match e {
            Event::SealingKeyRegistered(r) if r.cluster_id == id => Some(r.version),
            _ => None,
        })
        .with_context(|| {
            format!(
                "tx {}: the chain emitted no SealingKeyRegistered",
                tx.digest
            )
        })?;
    println!(
        "registered sealing key version {version} for cluster {cluster}: {} (tx {}, checkpoint {})",
        hex::encode(public_key),
        tx.digest,
        tx.checkpoint
            .map_or_else(|| "pending".to_owned(), |c| c.to_string())
    );
    u32::try_from(version).context("the chain assigned a version above u32::MAX")
}

/// `daas seal -o`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// YAML documents separated by `---`.
    Yaml,
    /// One JSON object; several in a `v1` `List`.
    Json,
}

/// The documents as `daas seal` prints them.
pub fn render(docs: &[Doc], output: Output) -> anyhow::Result<String> {
    let objects = docs
        .iter()
        .map(|d| serde_json::from_slice::<Value>(&d.manifest).context("not JSON"))
        .collect::<anyhow::Result<Vec<Value>>>()?;
    match output {
        Output::Yaml => {
            let mut out = String::new();
            for (i, o) in objects.iter().enumerate() {
                if i > 0 {
                    out.push_str("---\n");
                }
                out.push_str(&serde_yaml_ng::to_string(o).context("encoding YAML")?);
            }
            Ok(out)
        }
        Output::Json => {
            let value = match <[Value; 1]>::try_from(objects) {
                Ok([one]) => one,
                Err(many) => serde_json::json!({"apiVersion": "v1", "kind": "List", "items": many}),
            };
            Ok(serde_json::to_string_pretty(&value).context("encoding JSON")? + "\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use daas_domain::Bytes;
    use daas_sealing::{SealingPrivateKey, open_secret};
    use serde_json::json;

    use super::*;
    use crate::files;

    const CLUSTER: ObjectId = daas_domain::Address([9; 32]);
    /// The plaintexts of [`FILE`] and their base64, computed by hand
    /// (`printf %s pl41n-pw | base64`).
    const CLEAR: [&str; 6] = [
        "pl4in-user",
        "cGw0aW4tdXNlcg==",
        "pl41n-pw",
        "cGw0MW4tcHc=",
        "pl41n-t0ken",
        "cGw0MW4tdDBrZW4=",
    ];

    const FILE: &str = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"password":"pl41n-pw"}}'
type: Opaque
data: {user: cGw0aW4tdXNlcg==}
stringData: {password: pl41n-pw}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Secret, metadata: {name: api}, stringData: {token: pl41n-t0ken}}
- {apiVersion: v1, kind: Secret, metadata: {name: empty}, type: Opaque}
"#;

    fn ring() -> (BTreeMap<u32, SealingPrivateKey>, ClusterKey) {
        let sk = SealingPrivateKey::generate(&mut daas_sealing::rng::os());
        let key = ClusterKey {
            cluster: CLUSTER,
            version: 3,
            public_key: sk.public_key().0,
        };
        (BTreeMap::from([(3, sk)]), key)
    }

    fn object(doc: &Doc) -> Value {
        serde_json::from_slice(&doc.manifest).expect("json")
    }

    async fn sealed_with(docs: Vec<Doc>, key: &ClusterKey) -> anyhow::Result<Vec<Doc>> {
        let key = key.clone();
        seal_docs(docs, CLUSTER, || async { Ok(key) }).await
    }

    async fn no_key_asked() -> anyhow::Result<ClusterKey> {
        panic!("the key was asked for although no Secret needed it")
    }

    #[tokio::test]
    async fn every_secret_of_a_multi_document_file_is_sealed_and_nothing_else_changes() {
        let (ring, key) = ring();
        let docs = files::parse("s.yaml", FILE, Some("team-a")).expect("parse");
        let sealed = sealed_with(docs.clone(), &key).await.expect("sealed");
        assert_eq!(sealed.len(), 4);
        assert_eq!(sealed[0], docs[0], "the ConfigMap is sent as it was");
        assert_eq!(
            sealed[3], docs[3],
            "a Secret without values is sent as it was"
        );
        for doc in &sealed {
            let text = String::from_utf8_lossy(&doc.manifest);
            for clear in CLEAR {
                assert!(!text.contains(clear), "{clear} in {text}");
            }
        }
        let db = object(&sealed[1]);
        assert_eq!(
            db["metadata"]["annotations"],
            json!({"k3s-daas.io/sealed": "daas-seal-v1; key-version=3"}),
            "the sealed annotation, and kubectl's clear copy dropped"
        );
        assert!(db.get("stringData").is_none(), "stringData moved into data");
        let opened = open_secret(&db, CLUSTER, "team-a", "db", &ring).expect("opens");
        assert_eq!(
            opened["data"],
            json!({"user": "cGw0aW4tdXNlcg==", "password": "cGw0MW4tcHc="})
        );
        let api = open_secret(&object(&sealed[2]), CLUSTER, "team-a", "api", &ring).expect("opens");
        assert_eq!(api["data"], json!({"token": "cGw0MW4tdDBrZW4="}));
    }

    #[tokio::test]
    async fn sealed_output_is_sent_as_it_is_without_asking_for_a_key() {
        let (_, key) = ring();
        let docs = files::parse("s.yaml", FILE, Some("team-a")).expect("parse");
        let sealed = sealed_with(docs, &key).await.expect("sealed");
        for output in [Output::Yaml, Output::Json] {
            let text = render(&sealed, output).expect("render");
            let again = files::parse("sealed", &text, None).expect("parse the output");
            let manifests = |d: &[Doc]| d.iter().map(object).collect::<Vec<_>>();
            assert_eq!(manifests(&again), manifests(&sealed), "{output:?}");
            let sent = seal_docs(again.clone(), CLUSTER, no_key_asked)
                .await
                .expect("sent");
            assert_eq!(sent, again, "{output:?}");
        }
        let one = render(&sealed[..1], Output::Json).expect("render");
        assert_eq!(
            object(&sealed[0]),
            serde_json::from_str::<Value>(&one).expect("json")
        );
    }

    fn refused(result: anyhow::Result<Vec<Doc>>) -> String {
        let text = format!("{:#}", result.expect_err("refused"));
        assert!(text.starts_with("nothing was sent:"), "{text}");
        assert!(text.contains("the chain is public"), "{text}");
        for clear in CLEAR {
            assert!(!text.contains(clear), "{clear} in {text}");
        }
        text
    }

    #[tokio::test]
    async fn without_a_registered_key_nothing_is_sent_and_the_message_says_why() {
        let docs = files::parse("s.yaml", FILE, Some("team-a")).expect("parse");
        let none = seal_docs(docs.clone(), CLUSTER, || async { key_from(&[], CLUSTER) }).await;
        let text = refused(none);
        assert!(
            text.contains("refusing to send secret/db (s.yaml#2)"),
            "{text}"
        );
        assert!(
            text.contains("refusing to send secret/api (s.yaml#3.items[0])"),
            "{text}"
        );
        assert!(!text.contains("secret/empty"), "{text}");
        assert!(text.contains("daas admin register-sealing-key"), "{text}");

        let unreachable = || async { anyhow::bail!("cannot reach the Sui node at http://x") };
        let text = refused(seal_docs(docs.clone(), CLUSTER, unreachable).await);
        assert!(text.contains("cannot reach the Sui node"), "{text}");

        let (_, mut other) = ring();
        other.cluster = daas_domain::Address([1; 32]);
        let text = refused(sealed_with(docs, &other).await);
        assert!(text.contains("another cluster"), "{text}");
    }

    /// `FILE`'s db Secret sealed, as YAML, for the edits below.
    async fn sealed_db(key: &ClusterKey) -> Value {
        let docs = files::parse("s.yaml", FILE, Some("team-a")).expect("parse");
        object(&sealed_with(docs, key).await.expect("sealed")[1])
    }

    async fn send(object: &Value, namespace: Option<&str>) -> anyhow::Result<Vec<Doc>> {
        let docs = files::parse("e.json", &object.to_string(), namespace).expect("parse");
        seal_docs(docs, CLUSTER, no_key_asked).await
    }

    #[tokio::test]
    async fn annotated_secrets_with_anything_in_clear_or_bound_elsewhere_are_refused() {
        let (_, key) = ring();
        let db = sealed_db(&key).await;

        let mut clear_value = db.clone();
        clear_value["data"]["user"] = json!("cGw0aW4tdXNlcg==");
        let text = refused(send(&clear_value, None).await);
        assert!(
            text.contains("data key \"user\" is not a sealed value"),
            "{text}"
        );

        let mut string_data = db.clone();
        string_data["stringData"] = json!({"password": "pl41n-pw"});
        assert!(refused(send(&string_data, None).await).contains("has stringData"));

        let mut moved = db.clone();
        moved["metadata"]["namespace"] = json!("team-b");
        assert!(refused(send(&moved, None).await).contains("sealed for another"));
        let mut renamed = db.clone();
        renamed["metadata"]["name"] = json!("db2");
        assert!(refused(send(&renamed, None).await).contains("sealed for another"));
        let mut other_version = db.clone();
        other_version["metadata"]["annotations"]["k3s-daas.io/sealed"] =
            json!("daas-seal-v1; key-version=4");
        assert!(refused(send(&other_version, None).await).contains("sealed for another"));

        let mut bad_annotation = db.clone();
        bad_annotation["metadata"]["annotations"]["k3s-daas.io/sealed"] = json!("yes");
        assert!(refused(send(&bad_annotation, None).await).contains("annotation is not valid"));

        let odd = json!({"apiVersion": "example.com/v1", "kind": "Secret",
                         "metadata": {"name": "x"}, "data": {"k": "cGw0MW4tcHc="}});
        assert!(refused(send(&odd, Some("team-a")).await).contains("not a core v1 Secret"));
        let lower = json!({"apiVersion": "v1", "kind": "secret", "metadata": {"name": "x"},
                           "stringData": {"k": "pl41n-pw"}});
        assert!(refused(send(&lower, Some("team-a")).await).contains("not a core v1 Secret"));

        assert_eq!(send(&db, None).await.expect("as is").len(), 1);
    }

    fn registered(cluster: u8, version: u64, key: u8) -> SealingKeyRegistered {
        SealingKeyRegistered {
            cluster_id: daas_domain::Address([cluster; 32]),
            version,
            public_key: Bytes(vec![key; 32]),
            registered_by: daas_domain::Address([0; 32]),
            timestamp_ms: 0,
            seq: 0,
        }
    }

    #[test]
    fn the_current_key_is_the_clusters_highest_version() {
        let events = [
            registered(9, 1, 0xa1),
            registered(9, 3, 0xa3),
            registered(7, 8, 0xb8),
            registered(9, 2, 0xa2),
            registered(9, 0, 0xa0),
            registered(9, u64::from(u32::MAX) + 1, 0xff),
        ];
        assert_eq!(
            current_key(&events, CLUSTER),
            Some(ClusterKey {
                cluster: CLUSTER,
                version: 3,
                public_key: [0xa3; 32]
            })
        );
        assert_eq!(current_key(&events, daas_domain::Address([5; 32])), None);
        let err = key_from(&events[2..3], CLUSTER).expect_err("none for 9");
        assert!(
            format!("{err:#}").contains("no sealing key is registered"),
            "{err:#}"
        );
    }

    #[test]
    fn a_public_key_is_read_from_hex_a_file_or_a_show_output() {
        let hex = "8f2c5a61e3b0d4977a1c0e6f25b84d3a9c7e10f4b6d2a85e3f91c07b4d6e2a19";
        let bytes: [u8; 32] = hex::decode(hex).expect("hex").try_into().expect("32");
        assert_eq!(public_key_arg(hex).expect("hex"), bytes);
        assert_eq!(public_key_arg(&format!(" 0x{hex}\n")).expect("0x"), bytes);
        let shown =
            format!("sealing key version 2\npublic key: {hex}\nfile: /var/lib/sealing-key-v2\n");
        assert_eq!(public_key_in(&shown).expect("show output"), bytes);
        assert_eq!(
            public_key_in(&format!(
                "{{\"version\":2,\"public_key\":\"0x{hex}\",\"again\":\"{hex}\"}}"
            ))
            .expect("json"),
            bytes
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("key.txt");
        std::fs::write(&file, &shown).expect("write");
        assert_eq!(
            public_key_arg(file.to_str().expect("utf-8")).expect("file"),
            bytes
        );
        for bad in [&hex[..62], "zz", "/no/such/file"] {
            assert!(public_key_arg(bad).is_err(), "{bad}");
        }
        let two = format!("{hex} {}", "11".repeat(32));
        assert!(public_key_in(&two).is_err());
        assert!(public_key_in("version 2").is_err());
    }

    fn enclave(
        version: u64,
        key: [u8; 32],
        cluster: ObjectId,
        module_id: &str,
    ) -> crate::enclave::EnclaveRecord {
        crate::enclave::EnclaveRecord {
            event: daas_domain::events::EnclaveRegistered {
                cluster_id: cluster,
                pcr_version: 1,
                public_key: Bytes(vec![7; 32]),
                sealing_key_version: version,
                sealing_public_key: Bytes(key.to_vec()),
                module_id: Bytes(module_id.as_bytes().to_vec()),
                attestation_timestamp_ms: 1,
                registered_by: daas_domain::Address([1; 32]),
                timestamp_ms: 2,
                seq: 3,
            },
            transaction_digest: String::new(),
        }
    }

    /// The sealing key is used when a Nitro enclave of the cluster bound the
    /// same version and key; otherwise only with --allow-dev-attestation.
    #[test]
    fn the_sealing_key_must_be_an_attested_enclaves() {
        let key = ClusterKey {
            cluster: CLUSTER,
            version: 2,
            public_key: [5; 32],
        };
        let nitro = "i-0a1b2c3d4e5f60718-enc0123456789abcd";
        let attested = [enclave(2, [5; 32], CLUSTER, nitro)];
        assert_eq!(
            attested_key(key.clone(), &attested, false).expect("attested"),
            key
        );
        let not_bound = [
            enclave(1, [5; 32], CLUSTER, nitro),
            enclave(2, [6; 32], CLUSTER, nitro),
            enclave(2, [5; 32], daas_domain::Address([8; 32]), nitro),
        ];
        for (enclaves, why) in [
            (&not_bound[..], "registered with the AdminCap"),
            (&[][..], "registered with the AdminCap"),
            (
                &[enclave(2, [5; 32], CLUSTER, "k3s-daas-dev-enclave")][..],
                "DEV attestation",
            ),
        ] {
            let err = attested_key(key.clone(), enclaves, false).expect_err(why);
            let text = format!("{err:#}");
            assert!(
                text.contains(why) && text.contains("--allow-dev-attestation"),
                "{text}"
            );
            assert_eq!(
                attested_key(key.clone(), enclaves, true).expect("allowed"),
                key
            );
        }
    }
}
