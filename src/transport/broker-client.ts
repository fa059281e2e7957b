/**
 * A BrokerApi that reaches a broker across a comlink endpoint (a Worker, a
 * worker thread, a MessagePort). Produce record bytes are transferred, not
 * cloned: after `produce()` returns its promise, the caller's record buffers
 * are detached (byteLength 0) unless they were views of part of a larger
 * buffer, which are copied once instead. A producer that may need to resend a
 * batch must keep its own copy, or set `transferProduceRecords: false`.
 * Once answered, the broker hands the transferred buffers back, and they go
 * to the realm's buffer pool (src/buffer-pool.ts) for the next encoded request.
 *
 * One BrokerClient per endpoint: close() releases the serving side's listener.
 *
 * When the endpoint dies (worker crashed or terminated) comlink's pending
 * calls would never settle; `close(reason)` settles them with the reason, and
 * the cluster calls it when it sees the worker go.
 */
import { releaseProxy, transfer, wrap, type Remote } from 'comlink/dist/esm/comlink.mjs';
import { giveBuffer } from '../buffer-pool.ts';
import { WafkaError } from '../errors.ts';
import type {
  AlterConfigsRequest, AlterConfigsResponse, BrokerApi, BrokerMetrics, CreatePartitionsRequest, CreatePartitionsResponse,
  CreateTopicsRequest, CreateTopicsResponse, DeleteRecordsRequest, DeleteRecordsResponse, InitProducerIdRequest, InitProducerIdResponse, DeleteTopicsRequest,
  DeleteTopicsResponse, DescribeConfigsRequest, DescribeConfigsResponse, FetchRequest, FetchResponse, ListOffsetsRequest,
  ListOffsetsResponse, MetadataRequest, MetadataResponse, ProduceRequest, ProduceResponse,
  TransactionApi, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse, EndTxnRequest, EndTxnResponse, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
  WriteTxnMarkersRequest, WriteTxnMarkersResponse, DescribeTransactionsRequest, DescribeTransactionsResponse,
  ListTransactionsRequest, ListTransactionsResponse,
  GroupApi, FindCoordinatorRequest, FindCoordinatorResponse, JoinGroupRequest, JoinGroupResponse, SyncGroupRequest,
  SyncGroupResponse, HeartbeatRequest, HeartbeatResponse, LeaveGroupRequest, LeaveGroupResponse, OffsetCommitRequest,
  OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, DescribeGroupsRequest, DescribeGroupsResponse,
  ListGroupsRequest, ListGroupsResponse, DeleteGroupsRequest, DeleteGroupsResponse, OffsetDeleteRequest, OffsetDeleteResponse,
} from '../protocol/types.ts';
import { toEndpoint, type EndpointLike } from './endpoint.ts';
import type { HandingBackApi } from './expose-broker.ts';
import { prepareTransfer } from './transferable-bytes.ts';
import { registerWafkaErrorHandler } from './wafka-error-handler.ts';

export interface BrokerClientOptions {
  /** Transfer produce record buffers (default true). False clones them and leaves the caller's bytes intact. */
  transferProduceRecords?: boolean;
  /** Called once by close(), e.g. to close a MessagePort. */
  onClose?: () => void;
}

export class BrokerClient implements BrokerApi, GroupApi, TransactionApi {
  readonly #remote: Remote<BrokerApi & GroupApi & TransactionApi & HandingBackApi>;
  readonly #transferProduceRecords: boolean;
  readonly #onClose?: () => void;
  #closedError: WafkaError | null = null;
  #suspendedError: WafkaError | null = null;
  readonly #pendingRejects = new Set<(error: WafkaError) => void>();
  /** Bytes copied because a produce payload viewed part of a larger buffer (for tests and tuning). */
  bytesCopiedForTransfer = 0;

  constructor(endpoint: EndpointLike, options: BrokerClientOptions = {}) {
    registerWafkaErrorHandler();
    this.#remote = wrap<BrokerApi & GroupApi & TransactionApi & HandingBackApi>(toEndpoint(endpoint));
    this.#transferProduceRecords = options.transferProduceRecords ?? true;
    this.#onClose = options.onClose;
  }

  get closed(): boolean {
    return this.#closedError !== null;
  }

  metadata(request: MetadataRequest): Promise<MetadataResponse> {
    return this.#call(() => this.#remote.metadata(request));
  }

  produce(request: ProduceRequest): Promise<ProduceResponse> {
    if (!this.#transferProduceRecords) return this.#call(() => this.#remote.produce(request));
    const records: Uint8Array[] = [];
    for (const topic of request.topics) for (const p of topic.partitions) records.push(p.records);
    const prepared = prepareTransfer(records, 'copy-partial');
    this.bytesCopiedForTransfer += prepared.bytesCopied;
    // A new request object when a payload was copied: the caller's request is not mutated.
    let i = 0;
    const sent: ProduceRequest = prepared.bytesCopied === 0 ? request : {
      ...request,
      topics: request.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ ...p, records: prepared.payloads[i++] })) })),
    };
    return this.#call(async () => {
      const { response, buffers } = await this.#remote.produceHandingBack(transfer(sent, prepared.transfer));
      for (const buffer of buffers) giveBuffer(buffer);
      return response;
    });
  }

  fetch(request: FetchRequest): Promise<FetchResponse> {
    return this.#call(() => this.#remote.fetch(request));
  }
  listOffsets(request: ListOffsetsRequest): Promise<ListOffsetsResponse> {
    return this.#call(() => this.#remote.listOffsets(request));
  }
  createTopics(request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
    return this.#call(() => this.#remote.createTopics(request));
  }
  deleteTopics(request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
    return this.#call(() => this.#remote.deleteTopics(request));
  }
  createPartitions(request: CreatePartitionsRequest): Promise<CreatePartitionsResponse> {
    return this.#call(() => this.#remote.createPartitions(request));
  }
  describeConfigs(request: DescribeConfigsRequest): Promise<DescribeConfigsResponse> {
    return this.#call(() => this.#remote.describeConfigs(request));
  }
  alterConfigs(request: AlterConfigsRequest): Promise<AlterConfigsResponse> {
    return this.#call(() => this.#remote.alterConfigs(request));
  }
  deleteRecords(request: DeleteRecordsRequest): Promise<DeleteRecordsResponse> {
    return this.#call(() => this.#remote.deleteRecords(request));
  }

  initProducerId(request: InitProducerIdRequest): Promise<InitProducerIdResponse> {
    return this.#call(() => this.#remote.initProducerId(request));
  }
  metrics(): Promise<BrokerMetrics> {
    return this.#call(() => this.#remote.metrics());
  }

  findCoordinator(request: FindCoordinatorRequest): Promise<FindCoordinatorResponse> {
    return this.#call(() => this.#remote.findCoordinator(request));
  }
  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    return this.#call(() => this.#remote.joinGroup(request));
  }
  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    return this.#call(() => this.#remote.syncGroup(request));
  }
  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.#call(() => this.#remote.heartbeat(request));
  }
  leaveGroup(request: LeaveGroupRequest): Promise<LeaveGroupResponse> {
    return this.#call(() => this.#remote.leaveGroup(request));
  }
  offsetCommit(request: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    return this.#call(() => this.#remote.offsetCommit(request));
  }
  offsetFetch(request: OffsetFetchRequest): Promise<OffsetFetchResponse> {
    return this.#call(() => this.#remote.offsetFetch(request));
  }
  describeGroups(request: DescribeGroupsRequest): Promise<DescribeGroupsResponse> {
    return this.#call(() => this.#remote.describeGroups(request));
  }
  listGroups(request: ListGroupsRequest): Promise<ListGroupsResponse> {
    return this.#call(() => this.#remote.listGroups(request));
  }
  deleteGroups(request: DeleteGroupsRequest): Promise<DeleteGroupsResponse> {
    return this.#call(() => this.#remote.deleteGroups(request));
  }
  offsetDelete(request: OffsetDeleteRequest): Promise<OffsetDeleteResponse> {
    return this.#call(() => this.#remote.offsetDelete(request));
  }
  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<AddPartitionsToTxnResponse> {
    return this.#call(() => this.#remote.addPartitionsToTxn(request));
  }
  addOffsetsToTxn(request: AddOffsetsToTxnRequest): Promise<AddOffsetsToTxnResponse> {
    return this.#call(() => this.#remote.addOffsetsToTxn(request));
  }
  endTxn(request: EndTxnRequest): Promise<EndTxnResponse> {
    return this.#call(() => this.#remote.endTxn(request));
  }
  txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<TxnOffsetCommitResponse> {
    return this.#call(() => this.#remote.txnOffsetCommit(request));
  }
  writeTxnMarkers(request: WriteTxnMarkersRequest): Promise<WriteTxnMarkersResponse> {
    return this.#call(() => this.#remote.writeTxnMarkers(request));
  }
  describeTransactions(request: DescribeTransactionsRequest): Promise<DescribeTransactionsResponse> {
    return this.#call(() => this.#remote.describeTransactions(request));
  }
  listTransactions(request: ListTransactionsRequest): Promise<ListTransactionsResponse> {
    return this.#call(() => this.#remote.listTransactions(request));
  }

  /** Calls sent and not yet answered. */
  get pendingCount(): number {
    return this.#pendingRejects.size;
  }

  /**
   * Waits (at most timeoutMs) until every call sent so far is answered: answers
   * travel on the data port, so they may arrive after a control message sent later.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadlineMs = Date.now() + timeoutMs;
    while (this.#pendingRejects.size > 0 && Date.now() < deadlineMs) await new Promise((r) => setTimeout(r, 5));
  }

  /**
   * Settles every pending call with `reason` (default: BROKER_NOT_AVAILABLE)
   * and refuses new ones. Idempotent.
   */
  close(reason?: WafkaError): void {
    if (this.#closedError) return;
    this.#closedError = reason ?? new WafkaError('BROKER_NOT_AVAILABLE', 'broker connection closed');
    for (const reject of this.#pendingRejects) reject(this.#closedError);
    this.#pendingRejects.clear();
    // Tells the serving side to drop its listener (and close its port); the answer is not awaited,
    // the other side may be gone already.
    this.#remote[releaseProxy]();
    this.#onClose?.();
  }

  /**
   * The broker is alive but was declared gone (fenced while hung): settles
   * every pending call with `reason` and refuses new ones until resume(), so
   * that callers move to the new leaders instead of waiting for it to wake.
   */
  suspend(reason: WafkaError): void {
    if (this.#closedError) return;
    this.#suspendedError = reason;
    for (const reject of this.#pendingRejects) reject(reason);
    this.#pendingRejects.clear();
  }

  /** The broker registered again: calls go through again. */
  resume(): void {
    this.#suspendedError = null;
  }

  #call<T>(send: () => Promise<T>): Promise<T> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    if (this.#suspendedError) return Promise.reject(this.#suspendedError);
    return new Promise<T>((resolve, reject) => {
      const rejectOnClose = (error: WafkaError) => reject(error);
      this.#pendingRejects.add(rejectOnClose);
      send().then(resolve, reject).finally(() => this.#pendingRejects.delete(rejectOnClose));
    });
  }
}
