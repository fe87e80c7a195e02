/** A product as seeded into the database. Prices are integer cents (USD). */
export interface SeedProduct {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly price: number;
  readonly stock: number;
}

/** The initial catalogue. Images live in the bucket under `products/<id>.svg`. */
export const SEED_PRODUCTS: readonly SeedProduct[] = [
  { id: 'red-mug', name: 'Red Mug', description: 'A 350 ml stoneware mug in signal red.', price: 1299, stock: 100 },
  { id: 'blue-shirt', name: 'Blue Shirt', description: 'Organic cotton T-shirt, ocean blue.', price: 2499, stock: 100 },
  { id: 'notepad', name: 'Notepad', description: 'A5 dotted notepad, 120 pages.', price: 599, stock: 100 },
  { id: 'headphones', name: 'Headphones', description: 'Closed-back over-ear headphones.', price: 8999, stock: 100 },
  { id: 'bottle', name: 'Water Bottle', description: 'Insulated steel bottle, 750 ml.', price: 1999, stock: 100 },
  { id: 'backpack', name: 'Backpack', description: 'Water-resistant 20 l daypack.', price: 5999, stock: 100 },
];

/** S3 key of a product's image. */
export function productImageKey(id: string): string {
  return `products/${id}.svg`;
}

/** S3 key of an uploaded file. */
export function uploadKey(name: string): string {
  return `uploads/${name}`;
}
