/**
 * Plays the storage side of Filecoin Onchain Cloud on the local chain
 * (test/servers/filecoin-chain-server.ts asks it first for every
 * `eth_call`): what the SDK reads to pick providers and data sets, and
 * what a PDP provider's transactions change. Calls are decoded and answers
 * encoded with the contracts' ABIs from `@filoz/synapse-core/abis`;
 * provider products with synapse-core's own `encodePDPCapabilities`.
 *
 * - SessionKeyRegistry `authorizationExpiry(payer, signer, permission)`:
 *   far in the future for an authorised (payer, session key) pair, else 0
 *   (as the contract answers a key never `login`ed).
 * - ServiceProviderRegistry `getProvidersByProductType`,
 *   `getProviderWithProduct`, `getProvider`, `getProviderIdByAddress`,
 *   `getProviderByAddress`; Endorsements (`ProviderIdSet`)
 *   `getProviderIds`; FWSS view `getApprovedProviders`,
 *   `getClientDataSets`, `clientDataSets`, `getAllDataSetMetadata`,
 *   `getDataSetMetadata`, `getAllPieceMetadata`, `getDataSet` (of the
 *   data sets created here).
 * - PDPVerifier for those data sets: `dataSetLive`, `pieceLive`,
 *   `getActivePieceCount`, `getPieceCid`, `getNextPieceId`, `findPieceIdsByCid`,
 *   `getDataSetListener`, `getDataSetStorageProvider`,
 *   `getDataSetLastProvenEpoch`, `getNextChallengeEpoch`,
 *   `getScheduledRemovals` (what `schedulePieceDeletions` recorded: a
 *   provider's piece-deletion transaction, `scheduleRemovals`; the pieces
 *   stay live until the next proving period, as on the real PDPVerifier).
 *
 * Data sets are created only by a provider (`createDataSet`, `addPieces`:
 * what FWSS does when Curio's transaction lands, after checking the
 * client's EIP-712 signature, which the provider server checks here). Their
 * ids start at 9001 so they never meet a watch test's scenario ids.
 * Anything else returns `undefined`: the chain server answers it.
 */
import * as Abis from "@filoz/synapse-core/abis";
import { calibration } from "@filoz/synapse-core/chains";
import { encodePDPCapabilities } from "@filoz/synapse-core/utils";
import { decodeFunctionData, encodeFunctionResult, isAddressEqual, type Abi, type Hex } from "viem";

export interface LocalProvider {
  id: bigint;
  /** The provider's signing address (FWSS payee of its data sets). */
  serviceProvider: Hex;
  name: string;
  serviceURL: string;
  endorsed: boolean;
}

export interface ChainPiece {
  pieceCid: string;
  /** Piece CID bytes, as the PDPVerifier stores them (`Cids.Cid.data`). */
  cidBytes: Hex;
  metadata: Array<{ key: string; value: string }>;
  removed: boolean;
}

export interface ChainDataSet {
  id: bigint;
  providerId: bigint;
  payer: Hex;
  payee: Hex;
  clientDataSetId: bigint;
  metadata: Array<{ key: string; value: string }>;
  pieces: Map<bigint, ChainPiece>;
  nextPieceId: bigint;
  createdEpoch: bigint;
  /** FWSS `pdpEndEpoch`: 0 while the service runs, the end epoch once terminated (`terminate`). */
  pdpEndEpoch: bigint;
  /** PDPVerifier `scheduledRemovals`: piece ids whose deletion was scheduled (`schedulePieceDeletions`), in order. */
  scheduledRemovals: bigint[];
  /** PDPVerifier's proving state; unset: never proven (0), next challenge one proving period after creation (`setProving`). */
  proving?: { lastProvenEpoch: bigint; nextChallengeEpoch: bigint };
}

/** Far future (2100-01-01), seconds: an authorised session key's expiry. */
export const SESSION_KEY_EXPIRY = 4_102_444_800n;

export class StorageChain {
  readonly providers: LocalProvider[] = [];
  readonly dataSets = new Map<bigint, ChainDataSet>();
  /** `${payer}|${sessionKey}` (lower case) → expiry, seconds. */
  readonly #authorised = new Map<string, bigint>();
  #nextDataSetId = 9001n;
  head = 1_000_000n;

  authorise(payer: Hex, sessionKey: Hex, expiry = SESSION_KEY_EXPIRY): void {
    this.#authorised.set(`${payer.toLowerCase()}|${sessionKey.toLowerCase()}`, expiry);
  }

  expiryOf(payer: Hex, sessionKey: Hex): bigint {
    return this.#authorised.get(`${payer.toLowerCase()}|${sessionKey.toLowerCase()}`) ?? 0n;
  }

  /** What FWSS + PDPVerifier do for a provider's create-data-set transaction. */
  createDataSet(input: { providerId: bigint; payer: Hex; payee: Hex; clientDataSetId: bigint; metadata: ChainDataSet["metadata"] }): ChainDataSet {
    const set: ChainDataSet = { ...input, id: this.#nextDataSetId++, pieces: new Map(), nextPieceId: 0n, createdEpoch: this.head, pdpEndEpoch: 0n, scheduledRemovals: [] };
    this.dataSets.set(set.id, set);
    return set;
  }

  /** What an add-pieces transaction does: consecutive piece ids from the data set's next id. */
  addPieces(dataSetId: bigint, pieces: Array<Omit<ChainPiece, "removed">>): bigint[] {
    const set = this.dataSets.get(dataSetId);
    if (!set) throw new Error(`data set ${dataSetId} does not exist`);
    return pieces.map((p) => {
      const id = set.nextPieceId++;
      set.pieces.set(id, { ...p, removed: false });
      return id;
    });
  }

  /**
   * What a provider's `schedulePieceDeletions` transaction does (PDPVerifier,
   * after FWSS checked the client's signature): the ids join the data set's
   * scheduled removals; PDPVerifier reverts for a piece that is not live.
   */
  scheduleRemovals(dataSetId: bigint, pieceIds: bigint[]): void {
    const set = this.dataSets.get(dataSetId);
    if (!set) throw new Error(`data set ${dataSetId} does not exist`);
    const dead = pieceIds.filter((id) => set.pieces.get(id)?.removed !== false);
    if (dead.length > 0) throw new Error(`Can only schedule removal of live pieces (${dead.join(", ")})`);
    set.scheduledRemovals.push(...pieceIds);
  }

  /** What FWSS `terminateService` does to a data set: its `pdpEndEpoch` is set (the data set ends then). */
  terminate(dataSetId: bigint, pdpEndEpoch: bigint): void {
    const set = this.dataSets.get(dataSetId);
    if (!set) throw new Error(`data set ${dataSetId} does not exist`);
    set.pdpEndEpoch = pdpEndEpoch;
  }

  /** A data set's PDPVerifier proving state, e.g. proofs overdue: the last proof more than two proving periods back. */
  setProving(dataSetId: bigint, lastProvenEpoch: bigint, nextChallengeEpoch: bigint): void {
    const set = this.dataSets.get(dataSetId);
    if (!set) throw new Error(`data set ${dataSetId} does not exist`);
    set.proving = { lastProvenEpoch, nextChallengeEpoch };
  }

  /** The answer to an `eth_call`, or `undefined` when it is not about what this class plays. */
  call(to: Hex, data: Hex): Hex | undefined {
    const c = calibration.contracts;
    const contracts: Array<[Hex, Abi, (fn: string, a: readonly unknown[]) => unknown]> = [
      [c.sessionKeyRegistry.address, Abis.sessionKeyRegistry as Abi, (fn, a) => this.#sessionKeyRegistry(fn, a)],
      [c.serviceProviderRegistry.address, Abis.serviceProviderRegistry as Abi, (fn, a) => this.#registry(fn, a)],
      [c.endorsements.address, Abis.providerIdSet as Abi, (fn) => (fn === "getProviderIds" ? this.providers.filter((p) => p.endorsed).map((p) => p.id) : undefined)],
      [c.fwssView.address, Abis.fwssView as Abi, (fn, a) => this.#view(fn, a)],
      [c.pdp.address, Abis.pdp as Abi, (fn, a) => this.#verifier(fn, a)],
    ];
    const entry = contracts.find(([address]) => isAddressEqual(address, to));
    if (!entry) return undefined;
    const [, abi, handle] = entry;
    const { functionName, args = [] } = decodeFunctionData({ abi, data });
    const result = handle(functionName, args as readonly unknown[]);
    if (result === undefined) return undefined;
    return encodeFunctionResult({ abi, functionName, result } as never);
  }

  #sessionKeyRegistry(fn: string, a: readonly unknown[]): unknown {
    if (fn !== "authorizationExpiry") return undefined;
    return this.expiryOf(a[0] as Hex, a[1] as Hex);
  }

  #providerWithProduct(p: LocalProvider) {
    const [capabilityKeys, productCapabilityValues] = encodePDPCapabilities({
      serviceURL: p.serviceURL,
      minPieceSizeInBytes: 127n,
      maxPieceSizeInBytes: 1n << 35n,
      ipniPiece: true,
      ipniIpfs: true,
      ipniPeerId: undefined,
      storagePricePerTibPerDay: 1_000_000n,
      minProvingPeriodInEpochs: 30n,
      location: "local",
      paymentTokenAddress: calibration.contracts.usdfc.address,
    } as never);
    return {
      providerId: p.id,
      providerInfo: this.#info(p),
      product: { productType: 0, capabilityKeys, isActive: true },
      productCapabilityValues,
    };
  }

  #info(p: LocalProvider) {
    return { serviceProvider: p.serviceProvider, payee: p.serviceProvider, name: p.name, description: `local PDP provider ${p.id}`, isActive: true };
  }

  #registry(fn: string, a: readonly unknown[]): unknown {
    const byId = (id: unknown) => {
      const p = this.providers.find((x) => x.id === id);
      if (!p) throw new Error("Provider not found");
      return p;
    };
    switch (fn) {
      case "getProvidersByProductType": {
        const [, , offset, limit] = a as [number, boolean, bigint, bigint];
        const page = this.providers.slice(Number(offset), Number(offset + limit));
        return { providers: page.map((p) => this.#providerWithProduct(p)), hasMore: offset + limit < BigInt(this.providers.length) };
      }
      case "getProviderWithProduct":
        return this.#providerWithProduct(byId(a[0]));
      case "getProvider":
        return { providerId: a[0] as bigint, info: this.#info(byId(a[0])) };
      case "getProviderIdByAddress":
        return this.providers.find((p) => isAddressEqual(p.serviceProvider, a[0] as Hex))?.id ?? 0n;
      case "getProviderByAddress": {
        const p = this.providers.find((x) => isAddressEqual(x.serviceProvider, a[0] as Hex));
        if (!p) throw new Error("Provider not found");
        return { providerId: p.id, info: this.#info(p) };
      }
      default:
        return undefined;
    }
  }

  #dataSetView(set: ChainDataSet) {
    return {
      pdpRailId: set.id * 10n, cacheMissRailId: 0n, cdnRailId: 0n, payer: set.payer, payee: set.payee, serviceProvider: set.payee,
      commissionBps: 0n, clientDataSetId: set.clientDataSetId, pdpEndEpoch: set.pdpEndEpoch, providerId: set.providerId, dataSetId: set.id,
    };
  }

  #view(fn: string, a: readonly unknown[]): unknown {
    const own = (id: unknown) => this.dataSets.get(id as bigint);
    switch (fn) {
      case "getApprovedProviders":
        return this.providers.map((p) => p.id);
      case "getClientDataSets":
      case "clientDataSets": {
        const [payer, offset, limit] = a as [Hex, bigint, bigint];
        const sets = [...this.dataSets.values()].filter((s) => isAddressEqual(s.payer, payer)).slice(Number(offset), Number(offset + limit));
        return fn === "clientDataSets" ? sets.map((s) => s.id) : sets.map((s) => this.#dataSetView(s));
      }
      case "getAllDataSetMetadata": {
        const set = own(a[0]);
        if (!set) return undefined;
        return [set.metadata.map((m) => m.key), set.metadata.map((m) => m.value)];
      }
      case "getDataSetMetadata": {
        const set = own(a[0]);
        if (!set) return undefined;
        const m = set.metadata.find((x) => x.key === a[1]);
        return [m !== undefined, m?.value ?? ""];
      }
      case "getAllPieceMetadata": {
        const piece = own(a[0])?.pieces.get(a[1] as bigint);
        if (!piece) return undefined;
        return [piece.metadata.map((m) => m.key), piece.metadata.map((m) => m.value)];
      }
      case "getDataSet": {
        const set = own(a[0]);
        return set ? this.#dataSetView(set) : undefined;
      }
      default:
        return undefined;
    }
  }

  #verifier(fn: string, a: readonly unknown[]): unknown {
    const set = this.dataSets.get(a[0] as bigint);
    if (!set) return undefined;
    const live = [...set.pieces.entries()].filter(([, p]) => !p.removed);
    switch (fn) {
      case "dataSetLive":
        return true;
      case "pieceLive": {
        const p = set.pieces.get(a[1] as bigint);
        return !!p && !p.removed;
      }
      case "getActivePieceCount":
        return BigInt(live.length);
      case "getPieceCid": {
        const p = set.pieces.get(a[1] as bigint);
        return { data: p && !p.removed ? p.cidBytes : "0x" };
      }
      case "getNextPieceId":
        return set.nextPieceId;
      case "findPieceIdsByCid": {
        const [, cid, start, limit] = a as [bigint, { data: Hex }, bigint, bigint];
        return live.filter(([id, p]) => id >= start && p.cidBytes.toLowerCase() === cid.data.toLowerCase()).slice(0, Number(limit)).map(([id]) => id);
      }
      case "getDataSetListener":
        return calibration.contracts.fwss.address;
      case "getDataSetStorageProvider":
        return [set.payee, "0x0000000000000000000000000000000000000000"];
      case "getDataSetLastProvenEpoch":
        return set.proving?.lastProvenEpoch ?? 0n;
      case "getNextChallengeEpoch":
        return set.proving?.nextChallengeEpoch ?? set.createdEpoch + 2880n;
      case "getScheduledRemovals":
        return [...set.scheduledRemovals];
      default:
        return undefined;
    }
  }
}
