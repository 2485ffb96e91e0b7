/**
 * Nest conventions on mesh handlers, with real Nest apps and sockets on 127.0.0.1:
 * ValidationPipe (global, APP_PIPE, @UsePipes) on DTO payloads, @MeshPayload / @MeshContext,
 * the caller identity and CallOptions.metadata in the context, a guard by caller, RpcException
 * and HttpException reaching the caller, an app's HTTP-only global filter left out of mesh
 * handlers, and MeshExceptionFilter at a real HTTP endpoint of a gateway.
 */
import 'reflect-metadata';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ArgumentsHost,
  Body,
  Catch,
  Controller,
  ForbiddenException,
  Get,
  HttpException,
  Injectable,
  Module,
  Post,
  UseFilters,
  UseGuards,
  UsePipes,
  ValidationPipe,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type INestApplicationContext,
  type Provider,
  type Type,
} from '@nestjs/common';
import { APP_PIPE, NestFactory } from '@nestjs/core';
import { RpcException } from '@nestjs/microservices';
import { IsInt, IsString, Min, MinLength } from 'class-validator';
import {
  Balanced,
  MeshClient,
  MeshContext,
  MeshErrorCode,
  MeshExceptionFilter,
  MeshPayload,
  SocketMeshModule,
  command,
  defineWorker,
  type MeshHandlerContext,
  type SocketMeshWorkerOptions,
} from '../lib/index.js';
import { freePort } from './support/free-port.js';
import { meshError } from './support/mesh-rejection.js';

const KEYS = { publicKey: 'conventions-public-key', privateKey: 'conventions-private-key-0123456789abcdef' };
const LOGGER = ['fatal'] as const;

class CreateItemDto {
  @IsString()
  @MinLength(3)
  name!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

/** Lets only NodeA call: the caller worker as the handshake proved it. */
@Injectable()
class OnlyNodeAGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToRpc().getContext<MeshHandlerContext>().caller.worker === 'NodeA';
  }
}

/** A typical app-wide HTTP filter: it assumes an HTTP response and breaks anywhere else. */
@Catch()
class HttpOnlyFilter implements ExceptionFilter {
  catch(_err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<{ status(code: number): { json(body: unknown): void } }>();
    res.status(500).json({ from: 'http-only-filter' });
  }
}

/** A filter bound to a mesh provider with @UseFilters: it applies and may answer instead. */
@Catch(RangeError)
class RangeToValueFilter implements ExceptionFilter {
  catch(err: RangeError): unknown {
    return { recovered: err.message };
  }
}

@Injectable()
class NodeBCommands {
  @Balanced()
  create(item: CreateItemDto) {
    return { created: item.name, isDto: item instanceof CreateItemDto };
  }

  @Balanced()
  createDecorated(@MeshContext() context: MeshHandlerContext, @MeshPayload() item: CreateItemDto) {
    return { created: item.name, by: context.caller.worker, isDto: item instanceof CreateItemDto };
  }

  @Balanced()
  nameOnly(@MeshPayload('name') name: string) {
    return name;
  }

  @Balanced()
  whoami(@MeshPayload() _payload: unknown, @MeshContext() context: MeshHandlerContext) {
    return context;
  }

  @Balanced()
  @UseGuards(OnlyNodeAGuard)
  secret() {
    return 'for NodeA only';
  }

  @Balanced()
  rpcFail(payload: { error: string | object }) {
    throw new RpcException(payload.error);
  }

  @Balanced()
  httpFail() {
    throw new HttpException({ reason: 'teapot', statusCode: 418 }, 418);
  }

  @Balanced()
  plainFail() {
    throw new TypeError('internal detail');
  }

  @Balanced()
  @UseFilters(RangeToValueFilter)
  recovered() {
    throw new RangeError('out of range');
  }
}

@Injectable()
class AppPipeCommands {
  @Balanced()
  create(item: CreateItemDto) {
    return { created: item.name };
  }
}

@Injectable()
class UsePipesCommands {
  @Balanced()
  @UsePipes(new ValidationPipe())
  create(item: CreateItemDto) {
    return { created: item.name };
  }

  @Balanced()
  unvalidated(item: CreateItemDto) {
    return { created: item.name };
  }
}

@Controller('items')
class GatewayController {
  constructor(private readonly mesh: MeshClient) {}

  @Post()
  create(@Body() body: unknown) {
    return this.mesh.call('NodeB', 'create', body);
  }

  @Get('teapot')
  teapot() {
    return this.mesh.call('NodeB', 'httpFail');
  }

  @Get('broken')
  broken() {
    return this.mesh.call('NodeB', 'plainFail');
  }

  @Get('nobody')
  nobody() {
    return this.mesh.call('NodeGone', 'status', undefined, { timeout: 300 });
  }
}

function workerModule(name: string, options: SocketMeshWorkerOptions, providers: Provider[], controllers: Type[] = []): Type {
  @Module({ imports: [SocketMeshModule.forWorker(name, options)], providers, controllers })
  class WorkerModule {}
  return WorkerModule;
}

function request(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { connection: 'close' };
    if (data) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) });
    const req = httpRequest({ host: '127.0.0.1', port, path, method, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('Nest conventions on mesh handlers', () => {
  const apps: (INestApplicationContext | undefined)[] = [];
  let manager: INestApplicationContext;
  let nodeA: MeshClient;
  let nodeC: MeshClient;
  let gatewayPort: number;

  beforeAll(async () => {
    const port = await freePort();
    @Module({ imports: [SocketMeshModule.forManager({ port, host: '127.0.0.1', ...KEYS })] })
    class ManagerModule {}
    manager = await NestFactory.createApplicationContext(ManagerModule, { logger: [...LOGGER] });
    const base = { manager: { host: '127.0.0.1', port }, bindHost: '127.0.0.1', ...KEYS };

    // NodeB: an HTTP app with a global ValidationPipe (default options) and an HTTP-only global filter.
    const nodeB = await NestFactory.create(workerModule('NodeB', { ...base, allow: ['NodeA', 'NodeC'] }, [NodeBCommands]), {
      logger: [...LOGGER],
    });
    nodeB.useGlobalPipes(new ValidationPipe());
    nodeB.useGlobalFilters(new HttpOnlyFilter());
    await nodeB.listen(0, '127.0.0.1');
    apps.push(nodeB);
    const pipeProviders: Provider[] = [{ provide: APP_PIPE, useValue: new ValidationPipe() }, AppPipeCommands];
    apps.push(
      await NestFactory.createApplicationContext(workerModule('NodeP', { ...base, allow: ['NodeA'] }, pipeProviders), {
        logger: [...LOGGER],
      }),
    );
    apps.push(
      await NestFactory.createApplicationContext(workerModule('NodeU', { ...base, allow: ['NodeA'] }, [UsePipesCommands]), {
        logger: [...LOGGER],
      }),
    );

    const gateway: INestApplication = await NestFactory.create(
      workerModule('NodeA', { ...base, connect: ['NodeB', 'NodeP', 'NodeU', 'NodeGone'] }, [], [GatewayController]),
      { logger: [...LOGGER] },
    );
    gateway.useGlobalFilters(new MeshExceptionFilter());
    await gateway.listen(0, '127.0.0.1');
    gatewayPort = ((gateway.getHttpServer() as Server).address() as AddressInfo).port;
    apps.push(gateway);
    nodeA = gateway.get(MeshClient);
    const c = await NestFactory.createApplicationContext(workerModule('NodeC', { ...base, connect: ['NodeB'] }, []), {
      logger: [...LOGGER],
    });
    apps.push(c);
    nodeC = c.get(MeshClient);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(apps.map(async (app) => app?.close()));
    await manager?.close();
  }, 30_000);

  const valid = { name: 'bolt', quantity: 3 };
  const invalid = { name: 'x', quantity: 0 };

  describe('ValidationPipe with default options validates DTO payloads', () => {
    it.each([
      ['a global pipe (useGlobalPipes), no decorator', 'NodeB', 'create'],
      ['a global pipe, @MeshPayload() after @MeshContext()', 'NodeB', 'createDecorated'],
      ['APP_PIPE', 'NodeP', 'create'],
      ['@UsePipes on the method', 'NodeU', 'create'],
    ])('%s: invalid → MESH_REMOTE_ERROR 400 with the messages; valid passes', async (_label, worker, command) => {
      const err = await meshError(nodeA.call(worker, command, invalid, { timeout: 5000 }));
      expect(err.code).toBe(MeshErrorCode.REMOTE_ERROR);
      expect(err.status).toBe(400);
      const response = err.response as { message: string[]; statusCode: number };
      expect(response.statusCode).toBe(400);
      expect(response.message).toEqual(
        expect.arrayContaining(['name must be longer than or equal to 3 characters', 'quantity must not be less than 1']),
      );
      await expect(nodeA.call(worker, command, valid, { timeout: 5000 })).resolves.toMatchObject({ created: 'bolt' });
    });

    it('the pipe gets the class instance (transform is off by default; the handler gets the plain object)', async () => {
      await expect(nodeA.call('NodeB', 'create', valid)).resolves.toEqual({ created: 'bolt', isDto: false });
      await expect(nodeA.call('NodeB', 'createDecorated', valid)).resolves.toEqual({
        created: 'bolt',
        by: 'NodeA',
        isDto: false,
      });
    });

    it('without any pipe nothing is validated (control)', async () => {
      await expect(nodeA.call('NodeU', 'unvalidated', invalid)).resolves.toEqual({ created: 'x' });
    });

    it('a defineWorker contract types and routes mesh.node(contract)', async () => {
      const NodeB = defineWorker('NodeB', { nameOnly: command.balanced<{ name: string }, string>() });
      const answer: string = await nodeA.node(NodeB).nameOnly({ name: 'by-contract' });
      expect(answer).toBe('by-contract');
    });

    it('@MeshPayload("name") gives one property of the payload', async () => {
      await expect(nodeA.call('NodeB', 'nameOnly', { name: 'just-this' })).resolves.toBe('just-this');
    });
  });

  describe('context: caller identity and metadata', () => {
    it('@MeshContext() is { worker, command, kind, caller, metadata } with the proven caller', async () => {
      const context = await nodeA.call<MeshHandlerContext>('NodeB', 'whoami', undefined, {
        metadata: { 'x-correlation-id': 'c-42', tenant: 't1' },
      });
      const callerVariant = context.caller.variant;
      expect(context).toEqual({
        worker: 'NodeB',
        command: 'whoami',
        kind: 'balanced',
        caller: { worker: 'NodeA', variant: callerVariant },
        metadata: { 'x-correlation-id': 'c-42', tenant: 't1' },
      });
      expect(callerVariant.length).toBeGreaterThan(0);
      const fromC = await nodeC.call<MeshHandlerContext>('NodeB', 'whoami');
      expect(fromC.caller.worker).toBe('NodeC');
      expect(fromC.metadata).toEqual({});
    });

    it('metadata over the bounds is refused with MESH_BAD_REQUEST before sending', async () => {
      const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
      for (const metadata of [many, { ['k'.repeat(65)]: 'v' }, { big: 'x'.repeat(5000) }, { n: 1 as unknown as string }]) {
        const err = await meshError(nodeA.call('NodeB', 'whoami', undefined, { metadata }));
        expect(err.code).toBe(MeshErrorCode.BAD_REQUEST);
        expect(err.message).toMatch(/metadata/);
      }
    });

    it('a guard by caller worker: NodeA passes, NodeC gets MESH_REMOTE_ERROR 403', async () => {
      await expect(nodeA.call('NodeB', 'secret')).resolves.toBe('for NodeA only');
      const err = await meshError(nodeC.call('NodeB', 'secret'));
      expect(err.code).toBe(MeshErrorCode.REMOTE_ERROR);
      expect(err.status).toBe(403);
      expect(err.remoteName).toBe(ForbiddenException.name);
    });
  });

  describe('errors keep their meaning', () => {
    it('an RpcException object reaches the caller intact in error.response', async () => {
      const error = { code: 'OUT_OF_STOCK', sku: 'bolt', left: 0 };
      const err = await meshError(nodeA.call('NodeB', 'rpcFail', { error }));
      expect(err.code).toBe(MeshErrorCode.REMOTE_ERROR);
      expect(err.remoteName).toBe('RpcException');
      expect(err.response).toEqual(error);
      const text = await meshError(nodeA.call('NodeB', 'rpcFail', { error: 'plain text' }));
      expect(text.message).toBe('plain text');
      expect(text.response).toBe('plain text');
    });

    it('an HttpException keeps status and response; the HTTP-only global filter does not run', async () => {
      const err = await meshError(nodeA.call('NodeB', 'httpFail'));
      expect(err.status).toBe(418);
      expect(err.response).toEqual({ reason: 'teapot', statusCode: 418 });
      const plain = await meshError(nodeA.call('NodeB', 'plainFail'));
      expect(plain.message).toBe('internal detail');
      expect(plain.remoteName).toBe('TypeError');
    });

    it('a filter bound with @UseFilters applies and may answer instead', async () => {
      await expect(nodeA.call('NodeB', 'recovered')).resolves.toEqual({ recovered: 'out of range' });
    });
  });

  describe('MeshExceptionFilter at a real HTTP endpoint', () => {
    it('a remote 400 from validation stays 400 with its body', async () => {
      const res = await request(gatewayPort, 'POST', '/items', invalid);
      expect(res.status).toBe(400);
      expect((res.body as { message: string[] }).message).toContain('quantity must not be less than 1');
      expect(await request(gatewayPort, 'POST', '/items', valid)).toEqual({
        status: 201,
        body: { created: 'bolt', isDto: false },
      });
    });

    it('a remote HttpException keeps status and body; a plain remote error is 502 without its message', async () => {
      expect(await request(gatewayPort, 'GET', '/items/teapot')).toEqual({
        status: 418,
        body: { reason: 'teapot', statusCode: 418 },
      });
      expect(await request(gatewayPort, 'GET', '/items/broken')).toEqual({
        status: 502,
        body: { statusCode: 502, code: MeshErrorCode.REMOTE_ERROR, message: 'Bad Gateway' },
      });
    });

    it('MESH_NO_PEER is 503', async () => {
      const res = await request(gatewayPort, 'GET', '/items/nobody');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ statusCode: 503, code: MeshErrorCode.NO_PEER });
    });
  });
});
