// Drives the official Sui TypeScript SDK (@mysten/sui, SuiGrpcClient) against
// a running dev chain, over grpc-web (the SDK's default transport) and over
// native gRPC (@protobuf-ts/grpc-transport). Run by devnet/tests/ts_sdk.rs,
// which passes, as JSON in DAAS_SDK_EXPECT, values it read from the node's
// own state; every check compares against those. Exits non-zero on the first
// failed check. Prints one `RESULT {json}` line per executed transaction for
// the Rust side to check against the chain.

import assert from "node:assert/strict";
import { ChannelCredentials } from "@grpc/grpc-js";
import { GrpcTransport } from "@protobuf-ts/grpc-transport";
import { bcs } from "@mysten/sui/bcs";
import { decodeSuiPrivateKey } from "@mysten/sui/cryptography";
import { SuiGrpcClient } from "@mysten/sui/grpc";
import { Ed25519Keypair } from "@mysten/sui/keypairs/ed25519";
import { Transaction } from "@mysten/sui/transactions";
import { normalizeSuiAddress } from "@mysten/sui/utils";

const SUI = "0x2::sui::SUI";
const expect = JSON.parse(process.env.DAAS_SDK_EXPECT ?? "");
const norm = normalizeSuiAddress;
// The native transport hands out Buffers, grpc-web plain Uint8Arrays.
const sameBytes = (a, b, what) => assert.deepEqual(new Uint8Array(a), new Uint8Array(b), what);

// Sui's `Object` (the SDK 1.45 has no BCS type for it): a full node's `bcs`.
const SuiObject = bcs.struct("Object", {
  data: bcs.enum("Data", {
    Move: bcs.struct("MoveObject", {
      type: bcs.enum("MoveObjectType", {
        Other: bcs.StructTag,
        GasCoin: null,
        StakedSui: null,
        Coin: bcs.TypeTag,
      }),
      hasPublicTransfer: bcs.bool(),
      version: bcs.u64(),
      contents: bcs.byteVector(),
    }),
  }),
  owner: bcs.Owner,
  previousTransaction: bcs.ObjectDigest,
  storageRebate: bcs.u64(),
});

function clients() {
  const grpcWeb = new SuiGrpcClient({ network: "localnet", baseUrl: expect.url });
  const transport = new GrpcTransport({
    host: expect.url.replace(/^http:\/\//, ""),
    channelCredentials: ChannelCredentials.createInsecure(),
  });
  const grpc = new SuiGrpcClient({ network: "localnet", transport });
  return [
    ["grpc-web", grpcWeb, () => {}],
    ["grpc", grpc, () => transport.close()],
  ];
}

async function serviceInfo(client) {
  const { response } = await client.ledgerService.getServiceInfo({});
  assert.equal(response.chainId, expect.chain_id, "chain id");
  assert.ok(response.checkpointHeight >= BigInt(expect.checkpoint.sequence_number));
}

async function objects(client) {
  const { objects } = await client.core.getObjects({
    objectIds: [expect.pool.id, expect.coin.id, expect.missing],
  });
  const [pool, coin, missing] = objects;
  assert.equal(pool.id, norm(expect.pool.id));
  assert.equal(pool.version, expect.pool.version);
  assert.equal(pool.digest, expect.pool.digest);
  assert.equal(pool.type, expect.pool.type);
  assert.equal(pool.owner.$kind, "Shared");
  assert.equal(pool.owner.Shared.initialSharedVersion, expect.pool.initial_shared_version);
  assert.equal(coin.id, norm(expect.coin.id));
  assert.equal(coin.version, expect.coin.version);
  assert.equal(coin.digest, expect.coin.digest);
  assert.deepEqual(coin.owner, { $kind: "AddressOwner", AddressOwner: norm(expect.sender) });
  // `content` is the object's BCS as a full node sends it: the whole Object.
  const object = SuiObject.parse(await coin.content);
  assert.equal(object.owner.AddressOwner, norm(expect.sender));
  assert.equal(object.data.Move.type.$kind, "GasCoin");
  assert.equal(object.data.Move.version, expect.coin.version);
  const contents = new Uint8Array(object.data.Move.contents);
  assert.equal(bcs.u64().parse(contents.slice(32)), expect.coin.balance, "coin balance in BCS");
  assert.ok(missing instanceof Error, "a missing object is an error entry");
  const { object: one } = await client.core.getObject({ objectId: expect.coin.id });
  assert.equal(one.digest, expect.coin.digest);
}

async function balances(client, sender) {
  const { balance } = await client.core.getBalance({ address: expect.admin, coinType: SUI });
  assert.equal(balance.balance, expect.admin_balance, "admin balance");
  const all = await client.core.getAllBalances({ address: sender });
  assert.equal(all.balances.length, 1);
  assert.equal(all.balances[0].coinType, SUI);
  return BigInt(all.balances[0].balance);
}

async function owned(client, sender) {
  const { objects, hasNextPage } = await client.core.getOwnedObjects({ address: sender });
  assert.equal(hasNextPage, false);
  const coins = await client.core.getCoins({ address: sender, coinType: SUI });
  assert.deepEqual(
    objects.map((o) => o.id).sort(),
    coins.objects.map((o) => o.id).sort(),
    "the sender owns only coins",
  );
  return coins.objects;
}

async function checkpoint(client) {
  const { response } = await client.ledgerService.getCheckpoint({
    checkpointId: { oneofKind: "sequenceNumber", sequenceNumber: BigInt(expect.checkpoint.sequence_number) },
    readMask: { paths: ["sequence_number", "digest", "summary"] },
  });
  const cp = response.checkpoint;
  assert.equal(cp.digest, expect.checkpoint.digest, "checkpoint digest");
  assert.equal(cp.summary.epoch, BigInt(expect.checkpoint.epoch));
  assert.equal(cp.summary.contentDigest, expect.checkpoint.content_digest);
}

/** Builds, signs and executes a SUI transfer; checks what the SDK reads back. */
async function transfer(name, client, keypair, coins, balanceBefore) {
  const sender = keypair.toSuiAddress();
  const recipient = Ed25519Keypair.generate().toSuiAddress();
  const amount = BigInt(expect.amount);
  const { referenceGasPrice } = await client.core.getReferenceGasPrice();
  assert.equal(referenceGasPrice, expect.reference_gas_price);
  const gas = coins.reduce((a, b) => (BigInt(a.balance) >= BigInt(b.balance) ? a : b));
  const tx = new Transaction();
  tx.setSender(sender);
  tx.setGasPrice(BigInt(referenceGasPrice));
  tx.setGasBudget(BigInt(expect.gas_budget));
  tx.setGasPayment([{ objectId: gas.id, version: gas.version, digest: gas.digest }]);
  const [coin] = tx.splitCoins(tx.gas, [amount]);
  tx.transferObjects([coin], recipient);
  const bytes = await tx.build({ client });
  const { signature } = await keypair.signTransaction(bytes);
  const { transaction: done } = await client.core.executeTransaction({
    transaction: bytes,
    signatures: [signature],
  });
  const fx = done.effects;
  assert.equal(fx.status.success, true, `status: ${fx.status.error}`);
  assert.equal(done.digest, await tx.getDigest());
  assert.equal(fx.transactionDigest, done.digest);
  sameBytes(done.transaction.bcs, bytes, "the transaction read back is the one signed");
  assert.deepEqual(done.signatures, [signature]);
  const gasUsed = fx.gasUsed;
  const netGas = BigInt(gasUsed.computationCost) + BigInt(gasUsed.storageCost) - BigInt(gasUsed.storageRebate);
  assert.ok(BigInt(gasUsed.computationCost) > 0n, "gas was charged");
  assert.equal(fx.gasObject.id, norm(gas.id));
  // The effects' BCS, parsed by the SDK, says the same as its fields.
  const parsed = bcs.TransactionEffects.parse(fx.bcs);
  assert.equal(parsed.V2.transactionDigest, done.digest);
  assert.equal(parsed.V2.gasUsed.computationCost, gasUsed.computationCost);
  const changes = Object.fromEntries(done.balanceChanges.map((c) => [c.address, BigInt(c.amount)]));
  assert.deepEqual(changes, { [norm(recipient)]: amount, [norm(sender)]: -(amount + netGas) });
  assert.ok(done.balanceChanges.every((c) => c.coinType.endsWith("::sui::SUI")));

  // The same transaction through the generated client with a full node's
  // own read mask: `transaction.bcs` is the TransactionData.
  const { response } = await client.ledgerService.getTransaction({
    digest: done.digest,
    readMask: { paths: ["digest", "transaction.bcs", "effects.bcs"] },
  });
  sameBytes(response.transaction.transaction.bcs.value, bytes, "TransactionData");
  sameBytes(response.transaction.effects.bcs.value, fx.bcs, "effects BCS");

  const { balance } = await client.core.getBalance({ address: recipient, coinType: SUI });
  assert.equal(BigInt(balance.balance), amount, "recipient balance");
  const after = await balances(client, sender);
  assert.equal(after, balanceBefore - amount - netGas, "sender balance");
  console.log(`RESULT ${JSON.stringify({ transport: name, digest: done.digest, recipient, net_gas: netGas.toString() })}`);
  return after;
}

async function main() {
  const { secretKey } = decodeSuiPrivateKey(process.env.DAAS_SDK_KEY ?? "");
  const keypair = Ed25519Keypair.fromSecretKey(secretKey);
  const sender = keypair.toSuiAddress();
  assert.equal(sender, norm(expect.sender));
  let balance = BigInt(expect.sender_balance);
  for (const [name, client, close] of clients()) {
    try {
      await serviceInfo(client);
      await objects(client);
      assert.equal(await balances(client, sender), balance, "sender balance");
      const coins = await owned(client, sender);
      await checkpoint(client);
      balance = await transfer(name, client, keypair, coins, balance);
      console.log(`ok ${name}`);
    } finally {
      close();
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
