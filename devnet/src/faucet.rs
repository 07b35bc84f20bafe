//! The faucet's HTTP endpoint, wire-compatible with Sui's (`POST /v2/gas`, the
//! body `sui_rpc::faucet::FaucetClient` sends), plus an optional `amount`.

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::node::Node;

/// What a `FixedAmountRequest` sends when it names no amount: 10 SUI.
pub const DEFAULT_FAUCET_MIST: u64 = 10_000_000_000;

/// The request body.
#[derive(Debug, Deserialize, Serialize)]
pub enum FaucetRequest {
    /// Send coins to `recipient`.
    FixedAmountRequest {
        /// `0x…` address.
        recipient: String,
        /// MIST to send (our extension; Sui's faucet sends a fixed amount).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<u64>,
    },
}

/// One coin sent.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoinInfo {
    /// MIST.
    pub amount: u64,
    /// Coin object id.
    pub id: String,
    /// The transfer transaction.
    pub transfer_tx_digest: String,
}

/// The response body.
#[derive(Debug, Serialize, Deserialize)]
pub struct FaucetResponse {
    /// `"Success"` or `{"Failure": {"Internal": "…"}}`.
    pub status: serde_json::Value,
    /// Coins sent, on success.
    pub coins_sent: Option<Vec<CoinInfo>>,
}

async fn gas(
    State(node): State<Arc<Node>>,
    Json(req): Json<FaucetRequest>,
) -> (StatusCode, Json<FaucetResponse>) {
    let FaucetRequest::FixedAmountRequest { recipient, amount } = req;
    let failure = |code, msg: String| {
        (
            code,
            Json(FaucetResponse {
                status: serde_json::json!({ "Failure": { "Internal": msg } }),
                coins_sent: None,
            }),
        )
    };
    let Ok(address) = recipient.parse::<daas_domain::Address>() else {
        return failure(
            StatusCode::BAD_REQUEST,
            format!("bad recipient {recipient:?}"),
        );
    };
    let amount = amount.unwrap_or(DEFAULT_FAUCET_MIST);
    let to = sui_sdk_types::Address::new(address.0);
    let result = tokio::task::spawn_blocking(move || node.faucet(to, amount)).await;
    match result {
        Ok(Ok(done)) => {
            let coins = match &done.effects {
                sui_sdk_types::TransactionEffects::V2(e) => e
                    .changed_objects
                    .iter()
                    .filter(|c| c.id_operation == sui_sdk_types::IdOperation::Created)
                    .map(|c| CoinInfo {
                        amount,
                        id: c.object_id.to_string(),
                        transfer_tx_digest: done.digest.to_string(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            (
                StatusCode::OK,
                Json(FaucetResponse {
                    status: serde_json::json!("Success"),
                    coins_sent: Some(coins),
                }),
            )
        }
        Ok(Err(e)) => failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Serves the faucet on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    node: Arc<Node>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new().route("/v2/gas", post(gas)).with_state(node);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
