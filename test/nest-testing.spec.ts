/**
 * socket-mesh/testing: SocketMeshTestingModule gives a MeshClient backed by in-process fakes,
 * with the mesh's error semantics, and opens no socket.
 */
import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import { BadRequestException, Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { MeshClient, MeshErrorCode, type MeshHandlerContext } from '../lib/index.js';
import { MeshWorkerHost } from '../lib/nest/mesh-worker.host.js';
import { SocketMeshTestingModule } from '../lib/testing.js';
import { meshError } from './support/mesh-rejection.js';

@Injectable()
class Poller {
  constructor(private readonly mesh: MeshClient) {}
  poll(test: string) {
    return this.mesh.call<{ status: string }>('NodeB', 'status', { test });
  }
}

/** How many TCP servers and sockets this process holds (earlier suites in this process may still hold some). */
const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;

describe('SocketMeshTestingModule', () => {
  let moduleRef: TestingModule | undefined;
  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  async function build(): Promise<TestingModule> {
    moduleRef = await Test.createTestingModule({
      imports: [
        SocketMeshTestingModule.forWorker('NodeA', {
          fakes: {
            NodeB: {
              status: (p: { test: string }) => ({ status: `ok ${p.test}` }),
              whoami: (_p: undefined, context: MeshHandlerContext) => context,
              refuse: () => {
                throw new BadRequestException('no thanks');
              },
              crash: () => {
                throw new Error('boom');
              },
              hang: () => new Promise(() => undefined),
              collect: { broadcast: true, responds: true, handler: (p: { test: string }) => ({ command: p.test }) },
              ingest: { broadcast: true, queued: true, handler: () => undefined },
              notify: { broadcast: true, handler: () => undefined },
            },
          },
        }),
      ],
      providers: [Poller],
    }).compile();
    await moduleRef.init();
    return moduleRef;
  }

  it('runs the fakes in-process: no socket, no port, no mesh host', async () => {
    const before = tcpHandles();
    const app = await build();
    expect(await app.get(Poller).poll('data')).toEqual({ status: 'ok data' });
    // Not one more TCP server or socket than before (fewer is fine: earlier suites' ones closing).
    expect(tcpHandles()).toBeLessThanOrEqual(before);
    expect(() => app.get(MeshWorkerHost, { strict: false })).toThrow();
    const mesh = app.get(MeshClient);
    expect(mesh.peers('NodeB')).toEqual([{ worker: 'NodeB', variant: 'NodeB-fake', host: 'in-process', port: 0 }]);
    await expect(mesh.ready()).resolves.toBeUndefined();
  });

  it('answers by kind, and hands the fake the context with caller and metadata', async () => {
    const mesh = (await build()).get(MeshClient);
    await expect(
      mesh.node<{ status(p: { test: string }): { status: string } }>('NodeB').status({ test: 'proxy' }),
    ).resolves.toEqual({ status: 'ok proxy' });
    await expect(mesh.call('NodeB', 'collect', { test: 'x' })).resolves.toEqual([{ command: 'x' }]);
    await expect(mesh.call('NodeB', 'ingest', {})).resolves.toEqual({ queued: 1 });
    await expect(mesh.call('NodeB', 'notify')).resolves.toEqual({ delivered: 1 });
    await expect(mesh.call('NodeB', 'whoami', undefined, { metadata: { trace: 't-1' } })).resolves.toEqual({
      worker: 'NodeB',
      command: 'whoami',
      kind: 'balanced',
      caller: { worker: 'NodeA', variant: 'NodeA-testing' },
      metadata: { trace: 't-1' },
    });
  });

  it('has the real error semantics', async () => {
    const mesh = (await build()).get(MeshClient);
    expect((await meshError(mesh.call('NodeB', 'nope'))).code).toBe(MeshErrorCode.UNKNOWN_COMMAND);
    expect((await meshError(mesh.call('NodeZ', 'status'))).code).toBe(MeshErrorCode.ACCESS_DENIED);
    const crash = await meshError(mesh.call('NodeB', 'crash'));
    expect([crash.code, crash.message, crash.remoteName]).toEqual([MeshErrorCode.REMOTE_ERROR, 'boom', 'Error']);
    const refused = await meshError(mesh.call('NodeB', 'refuse'));
    expect([refused.code, refused.status]).toEqual([MeshErrorCode.REMOTE_ERROR, 400]);
    expect(refused.response).toMatchObject({ message: 'no thanks', statusCode: 400 });
    expect((await meshError(mesh.call('NodeB', 'hang', undefined, { timeout: 50 }))).code).toBe(MeshErrorCode.TIMEOUT);
    expect((await meshError(mesh.call('NodeB', 'status', { n: 1n }))).code).toBe(MeshErrorCode.BAD_REQUEST);
    expect((await meshError(mesh.call('NodeB', 'status', {}, { metadata: { n: 1 as unknown as string } }))).code).toBe(
      MeshErrorCode.BAD_REQUEST,
    );
  });

  it('waitFor: a faked worker is there at once with one instance', async () => {
    const mesh = (await build()).get(MeshClient);
    await expect(mesh.waitFor('NodeB', { timeout: 50 })).resolves.toEqual([
      { worker: 'NodeB', variant: 'NodeB-fake', host: 'in-process', port: 0 },
    ]);
    expect((await meshError(mesh.waitFor('NodeB', { instances: 2 }))).code).toBe(MeshErrorCode.TIMEOUT);
    expect((await meshError(mesh.waitFor('NodeZ'))).code).toBe(MeshErrorCode.ACCESS_DENIED);
  });
});
