import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NodeAModule } from './node-a.module.js';

const app = await NestFactory.createApplicationContext(NodeAModule);
app.enableShutdownHooks();
