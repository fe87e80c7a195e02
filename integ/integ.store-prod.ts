import { storeIntegTest } from './store-platform';
import { Preset } from '../src';

storeIntegTest('Prod', Preset.prod()).synth();
