import { storeIntegTest } from './store-platform';
import { Preset } from '../src';

storeIntegTest('Dev', Preset.dev()).synth();
