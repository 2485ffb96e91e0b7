import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NodeBModule } from './node-b.module.js';

// No HTTP server needed: NodeB is reached over the mesh only.
const app = await NestFactory.createApplicationContext(NodeBModule);
app.enableShutdownHooks();
