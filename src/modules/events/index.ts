export { OutboxRepository, type OutboxEventType } from './outbox.repository';
