export { productRoutes } from './products.routes.js';
export { createProduct } from './products.service.js';
