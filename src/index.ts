export * from './web/nginx-config';
